using System.Runtime.InteropServices;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// Where an operator records kernels: its forward build or its backward pass. Lets one helper
/// (weight packing, a GEMM, a reduction) serve both <see cref="OpBuildContext"/> and
/// <see cref="BackwardContext"/>.
/// </summary>
internal sealed class KernelSink
{
    private readonly Func<string, TensorShape, DataType?, Tensor> _scratch;
    private readonly Func<string, TensorShape, float[], Tensor> _weight;
    private readonly Func<string, int[], Tensor> _weightInt32;
    private readonly Func<PipelineKey, ComputePipeline> _pipeline;
    private readonly Action<ComputePipeline, IReadOnlyList<Tensor>, (uint, uint, uint), byte[]> _dispatch;

    private KernelSink(OpContext context, GpuDevice device, Func<string, TensorShape, DataType?, Tensor> scratch,
        Func<string, TensorShape, float[], Tensor> weight, Func<string, int[], Tensor> weightInt32,
        Func<PipelineKey, ComputePipeline> pipeline, Action<ComputePipeline, IReadOnlyList<Tensor>, (uint, uint, uint), byte[]> dispatch)
    {
        Context = context;
        Device = device;
        _scratch = scratch;
        _weight = weight;
        _weightInt32 = weightInt32;
        _pipeline = pipeline;
        _dispatch = dispatch;
    }

    public static KernelSink Of(OpBuildContext c) =>
        new(c, c.Device, c.Scratch, (k, s, d) => c.Weight(k, s, d), (k, d) => c.WeightInt32(k, [d.Length], d), c.Pipeline,
            (p, t, g, push) => c.Dispatch(p, t, g, push));

    public static KernelSink Of(BackwardContext c) =>
        new(c, c.Device, c.Scratch, (k, s, d) => c.Weight(k, s, d), (k, d) => c.WeightInt32(k, [d.Length], d), c.Pipeline,
            (p, t, g, push) => c.Dispatch(p, t, g, push));

    public static implicit operator KernelSink(OpBuildContext c) => Of(c);
    public static implicit operator KernelSink(BackwardContext c) => Of(c);

    public OpContext Context { get; }
    public GpuDevice Device { get; }

    /// <summary>A scratch tensor stored as <paramref name="type"/> (default: the node's storage).</summary>
    public Tensor Scratch(string key, TensorShape shape, DataType? type = null) => _scratch(key, shape, type);
    public Tensor Weight(string key, TensorShape shape, float[] data) => _weight(key, shape, data);
    public Tensor WeightInt32(string key, int[] data) => _weightInt32(key, data);
    public ComputePipeline Pipeline(PipelineKey description) => _pipeline(description);

    /// <summary>A stand-in for a float binding the kernel declares but does not touch this time (MaxPool's Indices, split-K's
    /// partial sums): <paramref name="candidate"/> where its elements are fp32, else one fp32 value of scratch, since a half
    /// tensor on a float binding is refused.</summary>
    public Tensor UnusedFloatBinding(Tensor candidate, string key) =>
        candidate.DataType == DataType.Float32 ? candidate : Scratch(key, [1], DataType.Float32);

    public void Dispatch<T>(ComputePipeline pipeline, IReadOnlyList<Tensor> tensors, (uint X, uint Y, uint Z) groups, in T push) where T
        : unmanaged =>
        _dispatch(pipeline, tensors, groups, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in push)).ToArray());

    public void Dispatch(ComputePipeline pipeline, IReadOnlyList<Tensor> tensors, (uint X, uint Y, uint Z) groups,
        ReadOnlySpan<byte> push) =>
        _dispatch(pipeline, tensors, groups, push.ToArray());

    public void Dispatch(ComputePipeline pipeline, IReadOnlyList<Tensor> tensors, (uint X, uint Y, uint Z) groups, uint[] push) =>
        _dispatch(pipeline, tensors, groups, MemoryMarshal.AsBytes(push.AsSpan()).ToArray());

    public (uint X, uint Y, uint Z) Grid1D(long count, uint local)
    {
        var (x, y) = Device.Grid1D(count, local);
        return (x, y, 1);
    }

    /// <summary>Workgroups for <paramref name="x"/>·<paramref name="y"/>·<paramref name="z"/>, or Unsupported naming the limit.</summary>
    public (uint, uint, uint) Groups(long x, long y, long z, string what)
    {
        var max = Device.Info.Limits.MaxWorkGroupCount;
        if (x > max[0] || y > max[1] || z > max[2])
            throw Context.Unsupported($"dispatch {x}x{y}x{z} exceeds the device limit [{string.Join(", ", max)}] for {what}");
        return ((uint)x, (uint)y, (uint)z);
    }
}

/// <summary>The fused activations backward kernels can differentiate: those whose derivative follows from the
/// saved output (shaders/common/activation_backward.glsl).</summary>
internal static class BackwardActivation
{
    public static bool Supports(FusedActivation act) =>
        act.Kind is ActivationKind.None or ActivationKind.Relu or ActivationKind.Clip or ActivationKind.Sigmoid or ActivationKind.Tanh
        || (act.Kind == ActivationKind.LeakyRelu && act.Alpha >= 0);

    public static void Check(OpContext c, FusedActivation act)
    {
        if (!Supports(act))
            throw c.Unsupported($"backward through the fused activation {act.Kind} (alpha {act.Alpha}) is not implemented " +
                "(supported: Relu, LeakyRelu with alpha >= 0, Clip, Sigmoid, Tanh)");
    }
}
