using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>unary.comp's OP constant (spec id 4); 0 runs the ACTIVATION constant instead (shaders/common/unary_ops.glsl).</summary>
internal enum MathOp : uint
{
    Activation = 0, Sqrt = 1, Exp = 2, Erf = 3, Neg = 4, Abs = 5, CastToInteger = 6, CastToBool = 7, Copy = 8, CastToHalf = 9,
}

/// <summary>The <c>unary</c> / <c>unary_backward</c> kernels that <see cref="Unary"/> and <see cref="Cast"/> record.</summary>
internal static class UnaryKernels
{
    private readonly record struct Push(uint Count, float Alpha, float Beta);

    /// <summary>y = f(x), four elements per invocation.</summary>
    public static void Forward(OpBuildContext c, MathOp op, FusedActivation activation)
    {
        var x = Elementwise.FloatInput(c, 0);
        var y = c.Output(0);
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new PipelineKey("unary", 2, 12, local) { Activation = (uint)activation.Kind, Constants = [(uint)op] });
        uint count = checked((uint)y.ElementCount);
        c.Dispatch(pipeline, [x, y], c.Grid1D((count + 3) / 4, local), new Push(count, activation.Alpha, activation.Beta));
    }

    /// <summary>dX += dY * f'(x), from the saved input and output.</summary>
    public static void Backward(BackwardContext c, Tensor dx, Tensor dy, MathOp op, FusedActivation activation)
    {
        if (c.Constant(0) is { IsInteger: true }) throw c.Unsupported("input 0 is an int64 constant and has no gradient");
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new PipelineKey("unary_backward", 4, 12, local)
        {
            Activation = (uint)activation.Kind,
            Constants = [(uint)op],
        });
        uint count = checked((uint)dx.ElementCount);
        c.Dispatch(pipeline, [c.Input(0), c.Output(0), dy, dx], c.Grid1D((count + 3) / 4, local),
            new Push(count, activation.Alpha, activation.Beta));
    }
}

/// <summary>
/// Pointwise unary ops (shader <c>unary</c>): the activations, which share
/// shaders/common/activation.glsl with every kernel that fuses them, plus Sqrt, Exp, Erf, Neg and
/// Abs. Activation nodes can be folded into a producer that accepts a fused activation
/// (<see cref="TryGetActivation"/>). Backward (shader <c>unary_backward</c>): dX += dY * f'(x).
/// </summary>
internal sealed class Unary : IOperator, IDifferentiable
{
    private static readonly HashSet<string> Activations =
        ["Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Silu", "Elu", "Gelu"];

    public IReadOnlyList<string> OpTypes { get; } = [.. Activations, "Sqrt", "Exp", "Erf", "Neg", "Abs"];

    /// <summary>Every activation type is <see cref="OperatorTraits.IsActivation"/>; a Clip with
    /// non-constant bounds is then simply not fused (<see cref="TryGetActivation"/> says false).</summary>
    public OperatorTraits Traits(Node node) =>
        (Activations.Contains(node.OpType) ? OperatorTraits.IsActivation : OperatorTraits.None) | OperatorTraits.Fp16Storage;


    public IReadOnlyList<int>? PerSampleInputs(Node node) => [0];

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        Resolve(c.Node, c.Constant);
        return [c.InputShape(0)];
    }

    public void Build(OpBuildContext c)
    {
        var (op, activation) = Resolve(c.Node, c.Constant);
        UnaryKernels.Forward(c, op, activation);
    }

    /// <summary>X only (Clip's bounds are constants here).</summary>
    public bool HasGradient(Node node, int inputIndex) => inputIndex == 0 && node.HasInput(0);

    public void BuildBackward(BackwardContext c)
    {
        if (c.InputGradient(0) is not { } dx || c.OutputGradient(0) is not { } dy) return;
        var (op, activation) = Resolve(c.Node, c.Constant);
        UnaryKernels.Backward(c, dx, dy, op, activation);
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

    private static float Float(Node node, string name, float fallback) => Read(node, () => node.Attributes.Float(name, fallback));

    private static T Read<T>(Node node, Func<T> read)
    {
        try { return read(); }
        catch (InvalidCastException e) { throw new GraphException(node, e.Message); }
    }
}
