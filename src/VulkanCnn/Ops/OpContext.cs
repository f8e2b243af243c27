using VulkanCnn.Ir;

namespace VulkanCnn.Ops;

/// <summary>What shape inference sees of a node: its attributes, input shapes and constant inputs.</summary>
internal class OpContext
{
    private readonly IReadOnlyList<TensorShape?> _inputShapes;
    private readonly IReadOnlyList<HostTensor?> _constants;

    public OpContext(Node node, IReadOnlyList<TensorShape?> inputShapes, IReadOnlyList<HostTensor?> constants)
    {
        Node = node;
        _inputShapes = inputShapes;
        _constants = constants;
    }

    public Node Node { get; }

    /// <summary>How this node's float tensors are stored: Float32, or Float16 where the session stores the node in fp16 (its
    /// kernels are then the shaders' <c>.f16</c> builds, and derived weights and scratch are half unless asked otherwise).</summary>
    public DataType Storage { get; init; } = DataType.Float32;

    /// <summary>The kernel variant being built (<see cref="VariantSelector"/> chose it; a backward sees its forward's); null for an
    /// operator without variants, and while the variant is being chosen.</summary>
    public string? Variant { get; init; }
    public int InputCount => Node.Inputs.Count;
    public bool HasInput(int index) => Node.HasInput(index) && index < _inputShapes.Count && _inputShapes[index] is not null;

    public TensorShape InputShape(int index) =>
        HasInput(index) ? _inputShapes[index]! : throw Error($"input {index} is required but missing");

    /// <summary>The input's value when it is a compile-time constant, else null.</summary>
    public HostTensor? Constant(int index) => index < _constants.Count ? _constants[index] : null;

    public HostTensor RequireConstant(int index, string what) =>
        Constant(index) ?? throw Unsupported($"input {index} ({what}) must be a constant (initializer) for this runtime");

    public GraphException Error(string message) => new(Node, message);
    public UnsupportedAttributeException Unsupported(string message) => new(Node, message);

    public long Int(string name, long fallback) => Read(() => Node.Attributes.Int(name, fallback));
    public float Float(string name, float fallback) => Read(() => Node.Attributes.Float(name, fallback));
    public long[]? Ints(string name) => Read(() => Node.Attributes.Ints(name));
    public float[]? Floats(string name) => Read(() => Node.Attributes.Floats(name));
    public string? String(string name) => Read(() => Node.Attributes.String(name));

    /// <summary>The activation the compiler fused into this node (none by default).</summary>
    public FusedActivation Activation => Read(() => FusedActivation.FromAttributes(Node.Attributes));

    /// <summary>Normalises a possibly negative axis against <paramref name="rank"/>, naming the attribute on error.</summary>
    public int Axis(long axis, int rank, string name = "axis")
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw Error($"{name} {axis} is out of range for rank {rank}");
        return (int)a;
    }

    private T Read<T>(Func<T> read)
    {
        try { return read(); }
        catch (InvalidCastException e) { throw Error(e.Message); }
    }
}
