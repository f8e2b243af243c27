using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// Pointwise unary ops (shader <c>unary</c>): the activations, which share
/// shaders/common/activation.glsl with every kernel that fuses them, plus Sqrt, Exp, Erf, Neg,
/// Abs and Cast. Activation nodes can be folded into a producer that accepts a fused activation
/// (<see cref="TryGetActivation"/>). Backward (shader <c>unary_backward</c>): dX += dY * f'(x);
/// Cast to a float type passes the gradient through, Cast to an integer or bool type has none.
/// </summary>
internal sealed class Unary : IOperator, IDifferentiable
{
    private static readonly HashSet<string> Activations =
        ["Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Silu", "Elu", "Gelu"];

    /// <summary>unary.comp's OP constant (spec id 4); 0 runs the ACTIVATION constant instead.</summary>
    private enum MathOp
        : uint
    { Activation = 0, Sqrt = 1, Exp = 2, Erf = 3, Neg = 4, Abs = 5, CastToInteger = 6, CastToBool = 7, Copy = 8, CastToHalf = 9 }

    private readonly record struct Push(uint Count, float Alpha, float Beta);

    public IReadOnlyList<string> OpTypes { get; } = [.. Activations, "Sqrt", "Exp", "Erf", "Neg", "Abs", "Cast"];

    /// <summary>Every activation type is <see cref="OperatorTraits.IsActivation"/>; a Clip with
    /// non-constant bounds is then simply not fused (<see cref="TryGetActivation"/> says false).</summary>
    public OperatorTraits Traits(Node node) => Activations.Contains(node.OpType) ? OperatorTraits.IsActivation : OperatorTraits.None;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        Resolve(c.Node, c.Constant);
        return [c.InputShape(0)];
    }

    public void Build(OpBuildContext c)
    {
        var (op, activation) = Resolve(c.Node, c.Constant);
        var x = Elementwise.FloatInput(c, 0);
        var y = c.Output(0);
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new PipelineKey("unary", 2, 12, local) { Activation = (uint)activation.Kind, Constants = [(uint)op] });
        uint count = checked((uint)y.ElementCount);
        c.Dispatch(pipeline, [x, y], c.Grid1D((count + 3) / 4, local), new Push(count, activation.Alpha, activation.Beta));
    }

    /// <summary>X only (Clip's bounds are constants here). Cast to an integer or bool type is not
    /// differentiable: like PyTorch's integer tensors, its output carries no gradient.</summary>
    public bool HasGradient(Node node, int inputIndex) =>
        inputIndex == 0 && node.HasInput(0) && (node.OpType != "Cast" || Resolve(node, _ => null).Op is MathOp.Copy or MathOp.CastToHalf);

    public void BuildBackward(BackwardContext c)
    {
        if (c.InputGradient(0) is not { } dx || c.OutputGradient(0) is not { } dy) return;
        var (op, activation) = Resolve(c.Node, c.Constant);
        if (op is MathOp.CastToInteger or MathOp.CastToBool)
            throw c.Unsupported("Cast to an integer or bool type has no gradient");
        if (c.Constant(0) is { IsInteger: true }) throw c.Unsupported("input 0 is an int64 constant and has no gradient");
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new PipelineKey("unary_backward", 4, 12, local)
        {
            Activation = (uint)activation.Kind,
            Constants = [(uint)op]
        });
        uint count = checked((uint)dx.ElementCount);
        c.Dispatch(pipeline, [c.Input(0), c.Output(0), dy, dx], c.Grid1D((count + 3) / 4, local),
            new Push(count, activation.Alpha, activation.Beta));
    }

    /// <summary>
    /// The <see cref="FusedActivation"/> an activation node computes, for the graph compiler to fold
    /// into its producer. False for other op types and for a Clip whose bounds are not constants;
    /// invalid attributes throw the same <see cref="GraphException"/> shape inference would.
    /// </summary>
    public static bool TryGetActivation(Node node, Func<int, HostTensor?> constantInput, out FusedActivation activation)
    {
        activation = FusedActivation.None;
        if (!Activations.Contains(node.OpType)) return false;
        var a = ActivationOf(node, constantInput, strict: false);
        if (a is null) return false;
        activation = a.Value;
        return true;
    }

    private static (MathOp Op, FusedActivation Params) Resolve(Node node, Func<int, HostTensor?> constant)
    {
        if (Activations.Contains(node.OpType)) return (MathOp.Activation, ActivationOf(node, constant, strict: true)!.Value);
        return node.OpType switch
        {
            "Sqrt" => (MathOp.Sqrt, FusedActivation.None),
            "Exp" => (MathOp.Exp, FusedActivation.None),
            "Erf" => (MathOp.Erf, FusedActivation.None),
            "Neg" => (MathOp.Neg, FusedActivation.None),
            "Abs" => (MathOp.Abs, FusedActivation.None),
            "Cast" => CastOf(node),
            _ => throw new GraphException(node, "is not a unary op"),
        };
    }

    /// <summary>Null only when <paramref name="strict"/> is false and a Clip bound is not a constant.</summary>
    private static FusedActivation? ActivationOf(Node node, Func<int, HostTensor?> constant, bool strict) => node.OpType switch
    {
        "Relu" => new(ActivationKind.Relu),
        "LeakyRelu" => new(ActivationKind.LeakyRelu, Float(node, "alpha", 0.01f)),
        "Sigmoid" => new(ActivationKind.Sigmoid),
        "Tanh" => new(ActivationKind.Tanh),
        "HardSigmoid" => new(ActivationKind.HardSigmoid, Float(node, "alpha", 0.2f), Float(node, "beta", 0.5f)),
        "HardSwish" => new(ActivationKind.HardSwish),
        "Silu" => new(ActivationKind.Silu),
        "Elu" => new(ActivationKind.Elu, Float(node, "alpha", 1f)),
        "Gelu" => Read(node, () => node.Attributes.String("approximate")) switch
        {
            null or "none" => new(ActivationKind.Gelu),
            "tanh" => new(ActivationKind.GeluTanh),
            var other => throw new GraphException(node, $"approximate '{other}' is not 'none' or 'tanh'"),
        },
        "Clip" => ClipOf(node, constant, strict),
        _ => throw new GraphException(node, "is not an activation"),
    };

    // Opset < 11: min/max attributes; opset >= 11: optional scalar inputs 1 and 2 ('' = omitted).
    private static FusedActivation? ClipOf(Node node, Func<int, HostTensor?> constant, bool strict)
    {
        float min = Float(node, "min", float.NegativeInfinity), max = Float(node, "max", float.PositiveInfinity);
        for (int i = 1; i <= 2; i++)
        {
            if (!node.HasInput(i)) continue;
            string what = i == 1 ? "min" : "max";
            if (constant(i) is not { } bound)
            {
                if (!strict) return null;
                throw new UnsupportedAttributeException(node, $"input {i} ({what}) must be a constant (initializer) for this runtime");
            }
            if (bound.Shape.ElementCount != 1) throw new GraphException(node,
                $"input {i} ({what}) must be a scalar, got shape {bound.Shape}");
            if (i == 1) min = bound.AsFloats()[0];
            else max = bound.AsFloats()[0];
        }
        return new FusedActivation(ActivationKind.Clip, min, max);
    }

    // 'to' is an ONNX TensorProto.DataType. GPU tensors stay float32: float targets copy, integer
    // targets truncate toward zero and saturate to the type's range, BOOL maps to 0/1.
    private static (MathOp, FusedActivation) CastOf(Node node)
    {
        long to = Read(node, () => node.Attributes.Int("to", -1));
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

    private static float Float(Node node, string name, float fallback) => Read(node, () => node.Attributes.Float(name, fallback));

    private static T Read<T>(Node node, Func<T> read)
    {
        try { return read(); }
        catch (InvalidCastException e) { throw new GraphException(node, e.Message); }
    }
}
