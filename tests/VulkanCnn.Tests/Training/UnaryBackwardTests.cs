using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Training;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Training;

/// <summary>
/// Backward of the pointwise unary ops (unary_backward) against a double-precision CPU derivative
/// written here, itself checked against central finite differences of the CPU forward. Kinks get
/// PyTorch's conventions, checked exactly; finite differences stay away from them.
/// </summary>
public sealed class UnaryBackwardTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>Forward and derivative in double, the sampling range, and the kinks to keep away from.</summary>
    private sealed record Case(string Op, Attributes? Attrs, Func<double, double> F, Func<double, double> D,
        float Low = -3, float High = 3, double[]? Kinks = null, In?[]? Extra = null, string? Name = null);

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
    private const double GeluC = 0.79788456080286536; // sqrt(2 / pi)

    private static readonly Dictionary<string, Case> Cases = new[]
    {
        new Case("Relu", null, x => Math.Max(x, 0), x => x > 0 ? 1 : 0, Kinks: [0]),
        new Case("LeakyRelu", Attrs(("alpha", 0.1f)), x => x >= 0 ? x : 0.1 * x, x => x > 0 ? 1 : 0.1, Kinks: [0]),
        new Case("Clip", Attrs(("min", -0.5f), ("max", 0.7f)), Name: "Clip(min, max)", F: x => Math.Clamp(x, -0.5, 0.7), D: x => x >= -0.5
            && x <= 0.7 ? 1 : 0,
            Low: -1.5f, High: 1.5f, Kinks: [-0.5, 0.7]),
        // Opset 11+: bounds as constant inputs, the max omitted.
        new Case("Clip", null, x => Math.Max(x, -0.25), x => x >= -0.25 ? 1 : 0, Kinks: [-0.25],
            Extra: [In.Weight([], [-0.25f])], Name: "Clip(min input)"),
        new Case("Sigmoid", null, Sigmoid, x => Sigmoid(x) * (1 - Sigmoid(x)), Low: -6, High: 6),
        new Case("Tanh", null, Math.Tanh, x => 1 - Math.Tanh(x) * Math.Tanh(x)),
        new Case("HardSigmoid", Attrs(("alpha", 0.3f), ("beta", 0.4f)), x => Math.Clamp(0.3 * x + 0.4, 0, 1),
            x => 0.3 * x + 0.4 is > 0 and < 1 ? 0.3 : 0, Low: -4, High: 4, Kinks: [-0.4 / 0.3, 0.6 / 0.3]),
        new Case("HardSwish", null, x => x * Math.Clamp(x / 6 + 0.5, 0, 1), x => x < -3 ? 0 : x <= 3 ? x / 3 + 0.5 : 1,
            Low: -5, High: 5, Kinks: [-3, 3]),
        new Case("Silu", null, x => x * Sigmoid(x), x => Sigmoid(x) * (1 + x * (1 - Sigmoid(x))), Low: -6, High: 6),
        new Case("Elu", Attrs(("alpha", 0.7f)), x => x >= 0 ? x : 0.7 * (Math.Exp(x) - 1), x => x > 0 ? 1 : 0.7 * Math.Exp(x), Kinks: [0]),
        new Case("Gelu", null, x => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
            x => 0.5 * (1 + Erf(x / Math.Sqrt(2))) + x * Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI)),
        new Case("Gelu", Attrs(("approximate", "tanh")), Name: "Gelu(tanh)", F: x =>
            0.5 * x * (1 + Math.Tanh(GeluC * (x + 0.044715 * x * x * x))), D: x =>
        {
            double t = Math.Tanh(GeluC * (x + 0.044715 * x * x * x));
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GeluC * (1 + 3 * 0.044715 * x * x);
        }),
        new Case("Sqrt", null, Math.Sqrt, x => 0.5 / Math.Sqrt(x), Low: 0.1f, High: 4),
        new Case("Exp", null, Math.Exp, Math.Exp, Low: -2, High: 2),
        new Case("Erf", null, Erf, x => 2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x), Low: -2, High: 2),
        new Case("Neg", null, x => -x, _ => -1),
        new Case("Abs", null, Math.Abs, x => Math.Sign(x), Kinks: [0]),
        new Case("Cast", Attrs(("to", 1)), x => x, _ => 1, Name: "Cast(float)"),
        new Case("Cast", Attrs(("to", 10)), x => x, _ => 1, Name: "Cast(float16)"),
    }.ToDictionary(c => c.Name ?? c.Op);

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Gradient_matches_reference_and_accumulates(string name)
    {
        var c = Cases[name];
        int[] shape = [2, 3, 5, 7]; // 210 values: a vec4 body and a tail of 2
        int n = 210, seed = name.Sum(ch => ch) * 7;
        var x = AwayFromKinks(Reference.Random(n, seed, c.Low, c.High), c.Kinks);
        var dy = Reference.Random(n, seed + 1);
        var initial = Reference.Random(n, seed + 2);

        // The CPU derivative against finite differences of L(x) = sum(dy * F(x)).
        var xd = x.Select(v => (double)v).ToArray();
        var analytic = xd.Select((v, i) => dy[i] * c.D(v)).ToArray();
        AssertMatchesFiniteDifferences(p => p.Select((v, i) => dy[i] * c.F(v)).Sum(), xd, analytic);

        var result = Run(c, shape, x, dy, initial);
        Tolerance.AssertClose(analytic.Select((g, i) => (float)(initial[i] + g)).ToArray(), result, Tolerance.Op, $"{name} dX");
    }

    [Fact]
    public void Short_tensor_takes_the_scalar_tail()
    {
        var c = Cases["Silu"];
        float[] x = [-1.5f, 0.25f, 2f], dy = [0.5f, -1f, 2f], initial = [1f, 2f, 3f];
        var result = Run(c, [3], x, dy, initial);
        Tolerance.AssertClose(x.Select((v, i) => (float)(initial[i] + dy[i] * c.D(v))).ToArray(), result, Tolerance.Op);
    }

    [Fact]
    public void Kinks_follow_pytorch_conventions()
    {
        void Check(string name, float[] x, float[] expected)
        {
            var result = Run(Cases[name], [x.Length], x, Enumerable.Repeat(1f, x.Length).ToArray(), new float[x.Length]);
            // Within tolerance, not bitwise: GPUs may divide approximately (x / 3); the conventions differ by far more.
            Tolerance.AssertClose(expected, result, Tolerance.Op, $"{name} at kinks");
        }
        Check("Relu", [0f, -0f, 1e-30f, -1e-30f], [0, 0, 1, 0]);
        Check("Abs", [0f, -0f, 2f, -2f], [0, 0, 1, -1]);
        Check("LeakyRelu", [0f, 1f, -1f], [0.1f, 1, 0.1f]);
        Check("Elu", [0f, 1f], [0.7f, 1]);
        // torch.nn.functional.hardswish's backward: x / 3 + 0.5 on the closed [-3, 3].
        Check("HardSwish", [-3f, 3f, -3.0001f, 3.0001f], [-0.5f, 1.5f, 0, 1]);
        // torch.clamp passes the gradient on min <= x <= max.
        Check("Clip(min, max)", [-0.5f, 0.7f, -0.5001f, 0.7001f], [1, 1, 0, 0]);
    }

    [Fact]
    public void Cast_to_an_integer_type_has_no_gradient()
    {
        var cast = new Cast();
        Assert.False(cast.HasGradient(new Node("Cast", "c", ["x"], ["y"], Attrs(("to", 7))), 0));
        Assert.False(cast.HasGradient(new Node("Cast", "c", ["x"], ["y"], Attrs(("to", 9))), 0));
        Assert.True(cast.HasGradient(new Node("Cast", "c", ["x"], ["y"], Attrs(("to", 1))), 0));
        var op = new Unary();
        Assert.False(op.HasGradient(new Node("Clip", "c", ["x", "lo", "hi"], ["y"]), 1));
        var node = new Node("Cast", "cast0", ["x"], ["y"], Attrs(("to", 6)));
        var x = HostTensor.FromFloats(new TensorShape(4), [1.5f, -2.5f, 3f, 0f]);
        Assert.Throws<ArgumentException>(() => BackwardRunner.Run(Device, node, [new NodeInput(x)], [x], [true]));
    }

    private float[] Run(Case c, int[] shape, float[] x, float[] dy, float[] initial)
    {
        var extra = c.Extra ?? [];
        var node = new Node(c.Op, c.Op.ToLowerInvariant() + "0", ["x", .. extra.Select((_, i) => $"in{i + 1}")], ["y"], c.Attrs);
        var s = new TensorShape(shape);
        var inputs = new List<NodeInput?> { new(HostTensor.FromFloats(s, x)) };
        inputs.AddRange(extra.Select(e => e is null ? null : new NodeInput(e.ToConstant(), e.Const)));
        var r = BackwardRunner.Run(Device, node, inputs, [HostTensor.FromFloats(s, dy)], [true, .. extra.Select(_ => false)],
            initialGradients: [HostTensor.FromFloats(s, initial)]);
        return r.InputGradients[0]!.Floats!;
    }

    /// <summary>Moves samples that fall within 1e-3 of a kink off it, so finite differences never straddle one.</summary>
    private static float[] AwayFromKinks(float[] x, double[]? kinks)
    {
        foreach (double k in kinks ?? [])
            for (int i = 0; i < x.Length; i++)
                if (Math.Abs(x[i] - k) < 1e-3) x[i] = (float)(k + (x[i] >= k ? 2e-3 : -2e-3));
        return x;
    }

    /// <summary>Central differences (eps 1e-6) of a scalar loss against an analytic gradient, in double.</summary>
    private static void AssertMatchesFiniteDifferences(Func<double[], double> loss, double[] x, double[] analytic)
    {
        const double eps = 1e-6, tolerance = 1e-6;
        for (int i = 0; i < x.Length; i++)
        {
            double saved = x[i];
            x[i] = saved + eps;
            double up = loss(x);
            x[i] = saved - eps;
            double down = loss(x);
            x[i] = saved;
            double fd = (up - down) / (2 * eps);
            Assert.True(Math.Abs(fd - analytic[i]) <= tolerance * Math.Max(1, Math.Abs(analytic[i])),
                $"element {i} (x = {saved}): finite difference {fd:R}, analytic {analytic[i]:R}");
        }
    }

    /// <summary>erf by its Maclaurin series (|x| ≤ 2 here: the terms stay small, double precision holds).</summary>
    private static double Erf(double x)
    {
        double sum = 0, term = x;
        for (int n = 0; n < 80; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }
}
