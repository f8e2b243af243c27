using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// What an operator's <see cref="IOperator.Build"/> gets: the device, its input and output
/// tensors (planned by the session), and factories for weights and kernels that the session
/// owns and disposes.
/// </summary>
internal sealed class OpBuildContext : OpContext
{
    private readonly IReadOnlyList<Tensor?> _inputs;
    private readonly IReadOnlyList<Tensor?> _outputs;
    private readonly List<IDisposable> _owned;
    private readonly List<BoundKernel> _kernels;
    private readonly Dictionary<string, Tensor> _scratch = new(StringComparer.Ordinal);

    internal OpBuildContext(GpuDevice device, Node node, IReadOnlyList<TensorShape?> inputShapes, IReadOnlyList<HostTensor?> constants,
        IReadOnlyList<Tensor?> inputs, IReadOnlyList<Tensor?> outputs, List<IDisposable> owned, List<BoundKernel> kernels)
        : base(node, inputShapes, constants)
    {
        Device = device;
        _inputs = inputs;
        _outputs = outputs;
        _owned = owned;
        _kernels = kernels;
    }

    public GpuDevice Device { get; }
    public int OutputCount => _outputs.Count;


    /// <summary>Build the training-mode forward (BatchNorm on batch statistics, Dropout active). Default: inference.</summary>
    public bool Training { get; init; }

    /// <summary>The GPU tensor of a float input (activations and float constants alike).</summary>
    public Tensor Input(int index) => index < _inputs.Count && _inputs[index] is { } t ? t
        : HasInput(index) && InputShape(index).IsEmpty
        ? throw Error($"input {index} ('{Node.Inputs[index]}') is empty ({InputShape(index)}); {Node.OpType} cannot compute a non-empty " +
            $"output from an empty tensor")
        : throw Error($"input {index} has no GPU tensor (missing, or an int64 constant that must be read with Constant())");

    /// <summary>The GPU tensor of input <paramref name="index"/>, or null (omitted, empty, or an int64 constant).</summary>
    public Tensor? InputTensor(int index) => index < _inputs.Count ? _inputs[index] : null;

    public Tensor Output(int index) => index < _outputs.Count && _outputs[index] is { } t ? t
        : throw Unsupported($"output {index} is omitted but this operator always computes it");
    /// <summary>True when output <paramref name="index"/> is requested (not an omitted optional output).</summary>
    public bool HasOutput(int index) => index < _outputs.Count && _outputs[index] is not null;
    public TensorShape OutputShape(int index) => Output(index).Shape;

    /// <summary>Uploads derived weights (packed, folded …) owned by the session, stored as <paramref name="type"/> (default: the
    /// node's <see cref="OpContext.Storage"/>).</summary>
    public Tensor Weight(string key, TensorShape shape, ReadOnlySpan<float> data, DataType? type = null)
    {
        var t = Tensor.FromData(Device, shape, data, $"{Node.Name}.{key}", type ?? Storage);
        _owned.Add(t);
        return t;
    }

    /// <summary>Uploads int32 data (indices, offsets) as a buffer owned by the session.</summary>
    public Tensor WeightInt32(string key, TensorShape shape, ReadOnlySpan<int> data)
    {
        var t = Tensor.Create(Device, shape, $"{Node.Name}.{key}", DataType.Int32);
        _owned.Add(t);
        t.Upload(MemoryMarshal.Cast<int, float>(data));
        return t;
    }

    /// <summary>A scratch tensor private to this node, owned by the session, stored as <paramref name="type"/> (default: the
    /// node's <see cref="OpContext.Storage"/>).</summary>
    public Tensor Scratch(string key, TensorShape shape, DataType? type = null)
    {
        var t = Tensor.Create(Device, shape, $"{Node.Name}.{key}", type ?? Storage);
        _owned.Add(t);
        _scratch[key] = t;
        return t;
    }

    /// <summary>The scratch tensor made under <paramref name="key"/>, if any (the backward reads what its forward saved).</summary>
    internal Tensor? ScratchOf(string key) => _scratch.GetValueOrDefault(key);

    /// <summary>The pipeline of <paramref name="description"/>; for a node stored in fp16, of its shader's <c>.f16</c> build (a
    /// shader without one is used as written, and <see cref="Dispatch(ComputePipeline, IReadOnlyList{Tensor}, ValueTuple{uint, uint,
    /// uint}, ReadOnlySpan{byte})"/> refuses half tensors bound to its float bindings).</summary>
    public ComputePipeline Pipeline(PipelineKey description)
    {
        if (Storage == DataType.Float16 && ShaderLibrary.Names.Contains(description.Shader + ShaderLibrary.Fp16Suffix))
            description = description with { Shader = description.Shader + ShaderLibrary.Fp16Suffix };
        return Device.GetPipeline(description);
    }

    /// <summary>Binds and appends one dispatch; dispatches run in the order they are added. A tensor whose element size is not
    /// the one its binding declares (a half tensor on a float binding) is refused naming both.</summary>
    public BoundKernel Dispatch(ComputePipeline pipeline, IReadOnlyList<Tensor> tensors, (uint X, uint Y, uint Z) groups,
        ReadOnlySpan<byte> push)
    {
        var elementBytes = ShaderInterface.ElementBytes(pipeline.Description.Shader, tensors.Count);
        for (int i = 0; i < tensors.Count; i++)
            if (elementBytes[i] != 0 && elementBytes[i] != tensors[i].DataType.SizeInBytes())
                throw Unsupported($"kernel {pipeline.Description.Shader} declares binding {i} with {elementBytes[i]}-byte elements but " +
                    $"tensor '{tensors[i].Name}' is {tensors[i].DataType}; this operator has no kernel for that storage");
        var k = new BoundKernel(pipeline, tensors.Select(t => t.Range).ToList(), groups, push,
            $"{Node.Name}:{pipeline.Description.Shader}");
        _kernels.Add(k);
        return k;
    }

    public BoundKernel Dispatch<T>(ComputePipeline pipeline, IReadOnlyList<Tensor> tensors, (uint X, uint Y, uint Z) groups, in T push)
        where T : unmanaged =>
        Dispatch(pipeline, tensors, groups, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in push)));

    /// <summary>Workgroups for a 1-D kernel over <paramref name="count"/> invocations (see linear_invocation_index()).</summary>
    public (uint X, uint Y, uint Z) Grid1D(long count, uint localSize)
    {
        var (x, y) = Device.Grid1D(count, localSize);
        return (x, y, 1);
    }
}
