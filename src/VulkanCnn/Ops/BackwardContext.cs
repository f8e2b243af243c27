using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// What <see cref="IDifferentiable.BuildBackward"/> gets: the forward node with its saved input
/// and output tensors, the incoming output gradients and the input gradients to accumulate into.
/// Pipelines, scratch tensors and dispatches work as in <see cref="OpBuildContext"/>.
/// </summary>
internal sealed class BackwardContext : OpContext
{
    private readonly OpBuildContext _build;
    private readonly IReadOnlyList<Tensor?> _outputGradients;
    private readonly IReadOnlyList<Tensor?> _inputGradients;

    internal BackwardContext(OpBuildContext forward, IReadOnlyList<Tensor?> outputGradients, IReadOnlyList<Tensor?> inputGradients)
        : base(forward.Node, forward.Node.Inputs.Select((_, i) => forward.HasInput(i) ? forward.InputShape(i) : null).ToList(),
               forward.Node.Inputs.Select((_, i) => forward.Constant(i)).ToList())
    {
        _build = forward;
        Variant = forward.Variant;
        Storage = forward.Storage;
        _outputGradients = outputGradients;
        _inputGradients = inputGradients;
    }

    public GpuDevice Device => _build.Device;
    /// <summary>The forward pass ran in training mode (BatchNorm used batch statistics, Dropout dropped).</summary>
    public bool Training => _build.Training;

    /// <summary>Forward input <paramref name="index"/> as it was during the forward pass.</summary>
    public Tensor Input(int index) => _build.Input(index);
    /// <summary>Forward output <paramref name="index"/> (saved activation).</summary>
    public Tensor Output(int index) => _build.Output(index);
    /// <summary>dL/dY for output <paramref name="index"/>, or null when nothing downstream needs it.</summary>
    public Tensor? OutputGradient(int index) => index < _outputGradients.Count ? _outputGradients[index] : null;
    /// <summary>The buffer to ADD dL/dX into for input <paramref name="index"/>, or null when that gradient is not needed.</summary>
    public Tensor? InputGradient(int index) => index < _inputGradients.Count ? _inputGradients[index] : null;

    public Tensor Scratch(string key, TensorShape shape, DataType? type = null) => _build.Scratch("backward." + key, shape, type);
    /// <summary>A scratch tensor the forward pass made under <paramref name="key"/> (unchanged until the backward reads it), if
    /// any.</summary>
    public Tensor? ForwardScratch(string key) => _build.ScratchOf(key);
    public Tensor Weight(string key, TensorShape shape, ReadOnlySpan<float> data) => _build.Weight("backward." + key, shape, data);
    public Tensor WeightInt32(string key, TensorShape shape, ReadOnlySpan<int> data) =>
        _build.WeightInt32("backward." + key, shape, data);
    public ComputePipeline Pipeline(PipelineKey description) => _build.Pipeline(description);
    public BoundKernel Dispatch(ComputePipeline pipeline, IReadOnlyList<Tensor> tensors, (uint X, uint Y, uint Z) groups,
        ReadOnlySpan<byte> push) =>
        _build.Dispatch(pipeline, tensors, groups, push);
    public BoundKernel Dispatch<T>(ComputePipeline pipeline, IReadOnlyList<Tensor> tensors, (uint X, uint Y, uint Z) groups,
        in T push) where T : unmanaged =>
        _build.Dispatch(pipeline, tensors, groups, push);
    public (uint X, uint Y, uint Z) Grid1D(long count, uint localSize) => _build.Grid1D(count, localSize);
}
