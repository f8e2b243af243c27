using System.Runtime.InteropServices;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Training;

/// <summary>A parameter being trained: its values and the gradient buffer the backward pass fills.</summary>
public sealed record TrainableParameter(string Name, Tensor Value, Tensor Gradient)
{
    /// <summary>Multiplies the optimizer's learning rate for this parameter (a parameter group: e.g. a lower rate for a pretrained
    /// backbone than for a new head).</summary>
    public double LearningRateScale { get; init; } = 1;
}

/// <summary>
/// An optimizer as shaders: its update kernels are recorded once into the training step and
/// replayed; the learning rate, bias corrections and gradient-clipping scale live in a small
/// host-visible buffer (<c>[lr, clip, bc1, bc2, norm]</c>) written before each submission, so no
/// re-recording is needed when they change. Optional clipping by global gradient norm is computed
/// on the GPU in a fixed order (deterministic).
/// </summary>
public abstract class Optimizer : IDisposable
{
    private const uint Chunk = 1024;
    private readonly OwnedResources _owned = new();
    private readonly List<BoundKernel> _kernels = new();
    private readonly Dictionary<string, Tensor> _state = new(StringComparer.Ordinal);

    protected Optimizer(GpuDevice device, IReadOnlyList<TrainableParameter> parameters, double learningRate, double maxGradNorm)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(learningRate);
        ArgumentOutOfRangeException.ThrowIfNegative(maxGradNorm);
        Device = device;
        Parameters = parameters;
        LearningRate = learningRate;
        MaxGradNorm = maxGradNorm;
        Hyper = Own(GpuBuffer.Create(device, 32, MemoryUsage.Staging, "optimizer.hyper"));
        WriteHyper(learningRate, 1, 1, 1);
    }

    public GpuDevice Device { get; }
    public IReadOnlyList<TrainableParameter> Parameters { get; }
    /// <summary>Base learning rate (a schedule scales it per step).</summary>
    public double LearningRate { get; set; }
    public double MaxGradNorm { get; }
    /// <summary>Steps prepared so far (restored from a checkpoint on resume).</summary>
    public long Step { get; set; }
    /// <summary>Optimizer state tensors by PyTorch-like name (<c>param.momentum_buffer</c>, <c>param.exp_avg</c> …) for
    /// checkpoints.</summary>
    public IReadOnlyDictionary<string, Tensor> State => _state;
    /// <summary>Global gradient norm of the last completed step (when clipping is on), read from the GPU.</summary>
    public float LastGradientNorm => MemoryMarshal.Cast<byte, float>(Hyper.MappedBytes)[4];
    internal GpuBuffer Hyper { get; }

    /// <summary>Records gradient clipping (if any) and every parameter update into <paramref name="recording"/>. Call once.</summary>
    public void Record(CommandRecording recording)
    {
        if (_kernels.Count == 0) BuildKernels();
        foreach (var k in _kernels) recording.Dispatch(k);
    }

    /// <summary>Writes this step's learning rate and bias corrections; call before each submission of the recorded step.</summary>
    public void PrepareStep(double learningRate)
    {
        Step++;
        var (bc1, bc2) = BiasCorrections(Step);
        WriteHyper(learningRate, 1, bc1, bc2);
    }

    protected virtual (double Bc1, double Bc2) BiasCorrections(long step) => (1, 1);

    /// <summary>Adds the update kernel of one parameter (state tensors from <see cref="CreateState"/>).</summary>
    protected abstract void BuildUpdate(TrainableParameter parameter, List<BoundKernel> kernels);

    protected Tensor CreateState(TrainableParameter parameter, string suffix)
    {
        var t = Own(Tensor.FromData(Device, parameter.Value.Shape, new float[parameter.Value.ElementCount], $"{parameter.Name}.{suffix}"));
        _state[$"{parameter.Name}.{suffix}"] = t;
        return t;
    }

    protected BufferRange HyperRange => new(Hyper, 0, Hyper.Size);

    private void BuildKernels()
    {
        if (MaxGradNorm > 0) BuildClipping();
        foreach (var p in Parameters) BuildUpdate(p, _kernels);
    }

    private void BuildClipping()
    {
        uint local = Device.DefaultWorkgroupSize;
        var slots = Parameters.Select(p => (uint)((p.Gradient.ElementCount + Chunk - 1) / Chunk)).ToList();
        uint total = (uint)slots.Sum(s => (long)s);
        var partial = Own(Tensor.Create(Device, [(int)total], "optimizer.grad_norm_partials"));
        var sums = Device.GetPipeline(new PipelineKey("grad_norm", 3, 16, local) { Constants = [0] });
        uint slot = 0;
        for (int i = 0; i < Parameters.Count; i++)
        {
            var g = Parameters[i].Gradient;
            ReadOnlySpan<uint> push = [(uint)g.ElementCount, slot, 0, 0];
            _kernels.Add(Own(new BoundKernel(sums, [g.Range, partial.Range, HyperRange], ((slots[i] + local - 1) / local, 1, 1),
                MemoryMarshal.AsBytes(push), "grad_norm.partial")));
            slot += slots[i];
        }
        var finish = Device.GetPipeline(new PipelineKey("grad_norm", 3, 16, 1) { Constants = [1] });
        var args = new byte[16];
        MemoryMarshal.Write(args.AsSpan(8), total);
        MemoryMarshal.Write(args.AsSpan(12), (float)MaxGradNorm);
        _kernels.Add(Own(new BoundKernel(finish, [Parameters[0].Gradient.Range, partial.Range, HyperRange], (1, 1, 1), args,
            "grad_norm.total")));
    }

    private void WriteHyper(double lr, double clip, double bc1, double bc2)
    {
        var h = MemoryMarshal.Cast<byte, float>(Hyper.MappedBytes);
        h[0] = (float)lr;
        h[1] = (float)clip;
        h[2] = (float)bc1;
        h[3] = (float)bc2;
    }

    protected T Own<T>(T resource) where T : IDisposable => _owned.Own(resource);

    public void Dispose()
    {
        _owned.Dispose();
        _kernels.Clear();
        GC.SuppressFinalize(this);
    }
}

/// <summary>SGD with optional momentum, Nesterov and (coupled) weight decay — PyTorch's torch.optim.SGD with dampening 0.</summary>
public sealed class Sgd : Optimizer
{
    public Sgd(GpuDevice device, IReadOnlyList<TrainableParameter> parameters, double learningRate, double momentum = 0,
        bool nesterov = false, double weightDecay = 0, double maxGradNorm = 0)
        : base(device, parameters, learningRate, maxGradNorm)
    {
        if (nesterov && momentum <= 0) throw new ArgumentException("Nesterov momentum needs momentum > 0.", nameof(nesterov));
        Momentum = momentum; Nesterov = nesterov; WeightDecay = weightDecay;
    }

    public double Momentum { get; }
    public bool Nesterov { get; }
    public double WeightDecay { get; }

    protected override void BuildUpdate(TrainableParameter p, List<BoundKernel> kernels)
    {
        uint local = Device.DefaultWorkgroupSize;
        var pipeline = Device.GetPipeline(new PipelineKey("sgd_step", 4, 16,
            local)
        { Constants = [Nesterov ? 1u : 0u, Momentum > 0 ? 1u : 0u] });
        var momentum = Momentum > 0 ? CreateState(p, "momentum_buffer") : p.Gradient; // unused binding without momentum
        var (x, y) = Device.Grid1D(p.Value.ElementCount, local);
        var push = new byte[16];
        MemoryMarshal.Write(push, (uint)p.Value.ElementCount);
        MemoryMarshal.Write(push.AsSpan(4), (float)Momentum);
        MemoryMarshal.Write(push.AsSpan(8), (float)WeightDecay);
        MemoryMarshal.Write(push.AsSpan(12), (float)p.LearningRateScale);
        kernels.Add(Own(new BoundKernel(pipeline, [p.Value.Range, p.Gradient.Range, momentum.Range, HyperRange], (x, y, 1), push,
            "sgd." + p.Name)));
    }
}

/// <summary>Adam (coupled L2) or AdamW (decoupled weight decay) — PyTorch's torch.optim.Adam / AdamW.</summary>
public sealed class Adam : Optimizer
{
    public Adam(GpuDevice device, IReadOnlyList<TrainableParameter> parameters, double learningRate = 1e-3, double beta1 = 0.9,
        double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0, bool decoupledWeightDecay = false, double maxGradNorm = 0)
        : base(device, parameters, learningRate, maxGradNorm)
    {
        Beta1 = beta1; Beta2 = beta2; Epsilon = epsilon; WeightDecay = weightDecay; Decoupled = decoupledWeightDecay;
    }

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Epsilon { get; }
    public double WeightDecay { get; }
    public bool Decoupled { get; }

    protected override (double Bc1, double Bc2) BiasCorrections(long step) => (1 - Math.Pow(Beta1, step), 1 - Math.Pow(Beta2, step));

    protected override void BuildUpdate(TrainableParameter p, List<BoundKernel> kernels)
    {
        uint local = Device.DefaultWorkgroupSize;
        var pipeline = Device.GetPipeline(new PipelineKey("adam_step", 5, 24, local) { Constants = [Decoupled ? 1u : 0u] });
        var m = CreateState(p, "exp_avg");
        var v = CreateState(p, "exp_avg_sq");
        var (x, y) = Device.Grid1D(p.Value.ElementCount, local);
        var push = new byte[24];
        MemoryMarshal.Write(push, (uint)p.Value.ElementCount);
        MemoryMarshal.Write(push.AsSpan(4), (float)Beta1);
        MemoryMarshal.Write(push.AsSpan(8), (float)Beta2);
        MemoryMarshal.Write(push.AsSpan(12), (float)Epsilon);
        MemoryMarshal.Write(push.AsSpan(16), (float)WeightDecay);
        MemoryMarshal.Write(push.AsSpan(20), (float)p.LearningRateScale);
        kernels.Add(Own(new BoundKernel(pipeline, [p.Value.Range, p.Gradient.Range, m.Range, v.Range, HyperRange], (x, y, 1), push,
            "adam." + p.Name)));
    }
}
