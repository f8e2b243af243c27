using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Benchmarks;

/// <summary>
/// A benchmark's hand-built operator: nodes built on one device that collect the tensors and kernels
/// (as a session would), then one command buffer that replays the kernels. Owns the device and all it made.
/// </summary>
public sealed class OpRecording(GpuDevice gpu) : IDisposable
{
    private readonly List<IDisposable> _owned = new();
    private readonly List<BoundKernel> _kernels = new();
    private CommandRecording? _rec;

    public GpuDevice Gpu { get; } = gpu;

    /// <summary>Disposed with the recording.</summary>
    public Tensor Own(Tensor t)
    {
        _owned.Add(t);
        return t;
    }

    /// <summary>Builds the node's forward kernels through the runtime's one road (<see cref="NodeKernels"/>).</summary>
    internal BuiltNode Forward(Node node, TensorShape?[] shapes, HostTensor?[] constants, Tensor?[] inputs, Tensor?[] outputs,
        bool training = false) =>
        NodeKernels.BuildForward(Gpu, node, shapes, constants, inputs, outputs, _owned, _kernels, training ? KernelMode.TrainingForward
            : KernelMode.Inference);

    /// <summary>Appends the backward kernels of a node built by <see cref="Forward"/>.</summary>
    internal void Backward(BuiltNode forward, Tensor?[] outputGradients, Tensor?[] inputGradients) =>
        NodeKernels.BuildBackward(forward, outputGradients, inputGradients);

    /// <summary>Records every kernel the contexts built, in order, into one command buffer.</summary>
    public void Record(string name)
    {
        _rec = new CommandRecording(Gpu, name);
        foreach (var k in _kernels) _rec.Dispatch(k);
        _rec.Finish();
    }

    public void Run() => _rec!.Run();

    /// <summary>Each kernel's GPU time (median of <paramref name="runs"/>, kernels one after another), to see where a layer's
    /// time goes.</summary>
    public IReadOnlyList<(string Kernel, double Milliseconds)> KernelTimes(int runs = 3)
    {
        using var rec = new CommandRecording(Gpu, "kernel times", _kernels.Count + 1, BarrierPolicy.EveryCommand);
        rec.Timestamp("start");
        foreach (var k in _kernels)
        {
            rec.Dispatch(k);
            rec.Timestamp(k.Pipeline.Description.Shader);
        }
        rec.Finish();
        rec.Run();
        var samples = _kernels.Select(_ => new List<double>()).ToList();
        for (int r = 0; r < runs; r++)
        {
            rec.Run();
            var ts = rec.ReadTimestamps();
            for (int i = 0; i < _kernels.Count; i++) samples[i].Add(ts[i + 1].Milliseconds - ts[i].Milliseconds);
        }
        return _kernels.Select((k, i) => (k.Pipeline.Description.Shader, samples[i].Order().ElementAt(runs / 2))).ToList();
    }

    public void Dispose()
    {
        _rec?.Dispose();
        foreach (var k in _kernels) k.Dispose();
        _kernels.Clear();
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
        Gpu.Dispose();
    }
}
