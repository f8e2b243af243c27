using VulkanCnn.Ir;

namespace VulkanCnn.Ops;

/// <summary>Pointwise activations, numbered as the ACT_ constants of shaders/common/activation_kinds.glsl (spec constant 3;
/// ShaderContractTests checks it).</summary>
public enum ActivationKind
{
    None = 0, Relu = 1, LeakyRelu = 2, Clip = 3, Sigmoid = 4, Tanh = 5, HardSigmoid = 6, HardSwish = 7,
    Silu = 8, Elu = 9, Gelu = 10, GeluTanh = 11,
}

/// <summary>
/// An activation applied by the kernel that produces a value (conv, gemm, add …) instead of a
/// separate pass. Stored on the node as vkcnn.activation / vkcnn.activation_alpha / _beta.
/// </summary>
public readonly record struct FusedActivation(ActivationKind Kind, float Alpha = 0, float Beta = 0)
{
    public const string KindAttribute = "vkcnn.activation";
    public const string AlphaAttribute = "vkcnn.activation_alpha";
    public const string BetaAttribute = "vkcnn.activation_beta";

    public static FusedActivation None => new(ActivationKind.None);

    public static FusedActivation FromAttributes(Attributes a) => a.String(KindAttribute) is { } kind
        ? new FusedActivation(Enum.Parse<ActivationKind>(kind), a.Float(AlphaAttribute, 0), a.Float(BetaAttribute, 0))
        : None;

    public void WriteTo(Attributes a)
    {
        a.Set(KindAttribute, Kind.ToString());
        a.Set(AlphaAttribute, Alpha);
        a.Set(BetaAttribute, Beta);
    }

    /// <summary>The same function on the CPU (constant folding, tests).</summary>
    public float Apply(float x) => Kind switch
    {
        ActivationKind.None => x,
        ActivationKind.Relu => MathF.Max(x, 0),
        ActivationKind.LeakyRelu => x >= 0 ? x : Alpha * x,
        ActivationKind.Clip => MathF.Min(MathF.Max(x, Alpha), Beta),
        ActivationKind.Sigmoid => 1 / (1 + MathF.Exp(-x)),
        ActivationKind.Tanh => MathF.Tanh(x),
        ActivationKind.HardSigmoid => MathF.Max(0, MathF.Min(1, Alpha * x + Beta)),
        ActivationKind.HardSwish => x * MathF.Max(0, MathF.Min(1, x / 6 + 0.5f)),
        ActivationKind.Silu => x / (1 + MathF.Exp(-x)),
        ActivationKind.Elu => x >= 0 ? x : Alpha * (MathF.Exp(x) - 1),
        ActivationKind.Gelu => (float)(0.5 * x * (1 + Erf(x / Math.Sqrt(2)))),
        ActivationKind.GeluTanh => (float)(0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, null),
    };

    private static double Erf(double x)
    {
        // Abramowitz & Stegun 7.1.26 is too coarse for references; use a series/continued-fraction pair.
        double ax = Math.Abs(x);
        double r;
        if (ax < 2.5)
        {
            double sum = ax, term = ax, x2 = ax * ax;
            for (int n = 1; n < 60; n++) { term *= -x2 / n; sum += term / (2 * n + 1); }
            r = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            double t = 0;
            for (int n = 60; n >= 1; n--) t = n / 2.0 / (ax + t);
            r = 1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / (ax + t);
        }
        return x < 0 ? -r : r;
    }
}

