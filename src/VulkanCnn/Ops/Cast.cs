using VulkanCnn.Ir;

namespace VulkanCnn.Ops;

/// <summary>
/// ONNX Cast on float32 GPU tensors (shader <c>unary</c>): float targets copy (FLOAT16 rounds to half precision),
/// integer targets truncate toward zero and saturate to the type's range, BOOL maps to 0/1. Backward: a float target
/// passes the gradient through; an integer or bool target, like PyTorch's integer tensors, carries no gradient.
/// </summary>
internal sealed class Cast : IOperator, IDifferentiable
{
    public IReadOnlyList<string> OpTypes { get; } = ["Cast"];

    public OperatorTraits Traits(Node node) => OperatorTraits.None;

    public IReadOnlyList<int>? PerSampleInputs(Node node) => [0];

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        CastOf(c.Node);
        return [c.InputShape(0)];
    }

    public void Build(OpBuildContext c)
    {
        var (op, range) = CastOf(c.Node);
        if (c.InputTensor(0) is { } x && x.DataType != c.Output(0).DataType) ConvertStorage(c, x, c.Output(0));
        else UnaryKernels.Forward(c, op, range);
    }

    // Between fp32 and fp16 tensors (a session's storage boundary, or Cast FLOAT <-> FLOAT16 in an fp16 session): the
    // conversion is the cast itself, rounding to nearest even towards half.
    private static void ConvertStorage(OpBuildContext c, Vulkan.Tensor x, Vulkan.Tensor y)
    {
        bool toHalf = y.DataType == DataType.Float16;
        if (toHalf == (x.DataType == DataType.Float16) || (!toHalf && y.DataType != DataType.Float32))
            throw c.Unsupported($"cast from {x.DataType} to {y.DataType} storage");
        const uint local = 64;
        long count = x.ElementCount;
        var pipeline = c.Pipeline(new Vulkan.PipelineKey("cast_storage", 2, 4, local) { Constants = [toHalf ? 1u : 0u] });
        c.Dispatch(pipeline, [x, y], c.Grid1D((count + 3) / 4, local), checked((uint)count));
    }

    public bool HasGradient(Node node, int inputIndex) =>
        inputIndex == 0 && node.HasInput(0) && CastOf(node).Op is MathOp.Copy or MathOp.CastToHalf;

    public void BuildBackward(BackwardContext c)
    {
        if (c.InputGradient(0) is not { } dx || c.OutputGradient(0) is not { } dy) return;
        var (op, range) = CastOf(c.Node);
        if (op is MathOp.CastToInteger or MathOp.CastToBool) throw c.Unsupported("Cast to an integer or bool type has no gradient");
        UnaryKernels.Backward(c, dx, dy, op, range);
    }

    // 'to' is an ONNX TensorProto.DataType. GPU tensors stay float32: float targets copy, integer
    // targets truncate toward zero and saturate to the type's range, BOOL maps to 0/1.
    private static (MathOp Op, FusedActivation Range) CastOf(Node node)
    {
        long to;
        try { to = node.Attributes.Int("to", -1); }
        catch (InvalidCastException e) { throw new GraphException(node, e.Message); }
        (float Lo, float Hi)? range = to switch
        {
            2 => (0, byte.MaxValue),
            3 => (sbyte.MinValue, sbyte.MaxValue),
            4 => (0, ushort.MaxValue),
            5 => (short.MinValue, short.MaxValue),
            6 => (int.MinValue, int.MaxValue),
            7 => (long.MinValue, long.MaxValue),
            12 => (0, uint.MaxValue),
            13 => (0, ulong.MaxValue),
            21 => (0, 15),
            22 => (-8, 7),
            _ => null,
        };
        if (range is { } r) return (MathOp.CastToInteger, new FusedActivation(ActivationKind.None, r.Lo, r.Hi));
        return to switch
        {
            1 or 11 or 16 => (MathOp.Copy, FusedActivation.None),
            10 => (MathOp.CastToHalf, FusedActivation.None),
            9 => (MathOp.CastToBool, FusedActivation.None),
            -1 => throw new GraphException(node, "attribute 'to' is required"),
            8 or 14 or 15 or (>= 17 and <= 20) or 23 => throw new UnsupportedAttributeException(node,
                $"to={to} ({TypeName(to)}) is not supported: tensors are float32; supported targets are float, integer and bool types"),
            _ => throw new GraphException(node, $"to={to} is not an ONNX tensor data type"),
        };
    }

    private static string TypeName(long to) => to switch
    {
        8 => "STRING",
        14 => "COMPLEX64",
        15 => "COMPLEX128",
        23 => "FLOAT4E2M1",
        _ => "FLOAT8",
    };

}
