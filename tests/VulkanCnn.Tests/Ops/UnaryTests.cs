using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>Pointwise activations, math ops and Cast (Unary) against double-precision CPU references.</summary>
public sealed class UnaryTests(GpuFixture gpu) : GpuTest(gpu)
{
    // 210 values (vec4 body + a tail of 2), 1, 13 (tail of 1), 32 (vec4 only).
    public static TheoryData<int[]> Shapes => new() { new[] { 2, 3, 5, 7 }, new[] { 1, 1 }, new[] { 13 }, new[] { 4, 8 } };

    internal static readonly Dictionary<string, Func<double, double>> Activations = new()
    {
        ["Relu"] = x => Math.Max(x, 0),
        ["LeakyRelu"] = x => x >= 0 ? x : 0.01 * x,
        ["Sigmoid"] = x => 1 / (1 + Math.Exp(-x)),
        ["Tanh"] = Math.Tanh,
        ["HardSigmoid"] = x => Math.Clamp(0.2 * x + 0.5, 0, 1),
        ["HardSwish"] = x => x * Math.Clamp(x / 6 + 0.5, 0, 1),
        ["Elu"] = x => x >= 0 ? x : Math.Exp(x) - 1,
        ["Gelu"] = x => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
        ["Silu"] = x => x / (1 + Math.Exp(-x)),
        ["Clip"] = x => x,
    };

    public static TheoryData<string, int[]> ActivationCases()
    {
        var data = new TheoryData<string, int[]>();
        foreach (var op in Activations.Keys)
            foreach (var shape in Shapes) data.Add(op, shape);
        return data;
    }

    [Theory]
    [MemberData(nameof(ActivationCases))]
    public void Activation_with_default_attributes_matches_reference(string op, int[] shape)
    {
        var x = In.Random(shape, op.Length * 31 + shape.Length, -4, 4);
        var y = Run1(Device, op, null, x);
        Assert.Equal(new TensorShape(shape), y.Shape);
        Tolerance.AssertClose(Map(x.Data!, Activations[op]), y.Floats, Tolerance.Op, op);
    }

    [Fact]
    public void Activation_attributes_are_honoured()
    {
        var x = In.Random([3, 17], 7, -5, 5);
        Check("LeakyRelu", Attrs(("alpha", 0.3f)), v => v >= 0 ? v : 0.3 * v);
        Check("HardSigmoid", Attrs(("alpha", 0.5f), ("beta", 0.25f)), v => Math.Clamp(0.5 * v + 0.25, 0, 1));
        Check("Elu", Attrs(("alpha", 2.5f)), v => v >= 0 ? v : 2.5 * (Math.Exp(v) - 1));
        Check("Gelu", Attrs(("approximate", "none")), v => 0.5 * v * (1 + Erf(v / Math.Sqrt(2))));
        Check("Gelu", Attrs(("approximate", "tanh")), v => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))));

        void Check(string op, Attributes a, Func<double, double> f) =>
            Tolerance.AssertClose(Map(x.Data!, f), Run1(Device, op, a, x).Floats, Tolerance.Op, op);
    }

    [Fact]
    public void Gelu_approximations_differ_where_expected()
    {
        // The tanh form is off by up to ~1e-3 around |x| ≈ 2: each variant must match its own formula only.
        var x = In.Of([4], [-2.5f, -1.7f, 1.9f, 2.6f]);
        var exact = Run1(Device, "Gelu", null, x).Floats!;
        var tanh = Run1(Device, "Gelu", Attrs(("approximate", "tanh")), x).Floats!;
        Assert.True(exact.Zip(tanh).Max(p => Math.Abs(p.First - p.Second)) > 1e-4);
    }

    [Fact]
    public void Clip_bounds_from_attributes_inputs_and_defaults()
    {
        var x = In.Random([2, 3, 5, 7], 11, -3, 3);
        Func<double, double> Clamp(double lo, double hi) => v => Math.Min(Math.Max(v, lo), hi);
        // Opset < 11: attributes.
        Tolerance.AssertClose(Map(x.Data!, Clamp(-1, 0.5)), Run1(Device, "Clip", Attrs(("min", -1f), ("max", 0.5f)), x).Floats,
            Tolerance.Op);
        Tolerance.AssertClose(Map(x.Data!, Clamp(0, 6)), Run1(Device, "Clip", Attrs(("min", 0f), ("max", 6f)), x).Floats, Tolerance.Op);
        // Opset >= 11: constant scalar inputs; '' omits min; a missing max stays +inf.
        var min = In.Weight([], [-0.25f]);
        var max = In.Weight([], [1.5f]);
        Tolerance.AssertClose(Map(x.Data!, Clamp(-0.25, 1.5)), Run1(Device, "Clip", null, x, min, max).Floats, Tolerance.Op);
        Tolerance.AssertClose(Map(x.Data!, Clamp(double.NegativeInfinity, 1.5)), Run1(Device, "Clip", null, x, null, max).Floats,
            Tolerance.Op);
        Tolerance.AssertClose(Map(x.Data!, Clamp(-0.25, double.PositiveInfinity)), Run1(Device, "Clip", null, x, min).Floats, Tolerance.Op);
        Tolerance.AssertClose(Map(x.Data!, Clamp(-2, 2)),
            Run1(Device, "Clip", null, x, new In([1], Ints: [-2], Const: true), new In([1], Ints: [2], Const: true)).Floats, Tolerance.Op);
        Assert.Equal(x.Data, Run1(Device, "Clip", null, x).Floats);
        // min > max: every value becomes max (ONNX).
        Assert.All(Run1(Device, "Clip", Attrs(("min", 2f), ("max", 1f)), x).Floats!, v => Assert.Equal(1f, v));
    }

    public static TheoryData<string, float, float> MathCases => new()
    {
        { "Sqrt", 0, 10 }, { "Exp", -6, 6 }, { "Erf", -4, 4 }, { "Neg", -3, 3 }, { "Abs", -3, 3 },
    };

    [Theory]
    [MemberData(nameof(MathCases))]
    public void Math_op_matches_reference(string op, float low, float high)
    {
        Func<double, double> f = op switch
        {
            "Sqrt" => Math.Sqrt,
            "Exp" => Math.Exp,
            "Erf" => Erf,
            "Neg" => v => -v,
            _ => Math.Abs,
        };
        foreach (var shape in Shapes)
        {
            var x = In.Random(shape, shape.Sum(), low, high);
            Tolerance.AssertClose(Map(x.Data!, f), Run1(Device, op, null, x).Floats, Tolerance.Op, $"{op} {new TensorShape(shape)}");
        }
    }

    [Fact]
    public void Sqrt_of_negative_is_nan_and_exp_overflows_to_infinity()
    {
        var y = Run1(Device, "Sqrt", null, In.Of([2], [-1f, 4f])).Floats!;
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(2f, y[1]);
        Assert.Equal(float.PositiveInfinity, Run1(Device, "Exp", null, In.Of([1], [100f])).Floats![0]);
    }

    [Fact]
    public void Cast_to_float16_rounds_like_IEEE_half_through_subnormals_ties_and_overflow()
    {
        // Exact ties (half an ulp, even and odd neighbours) in the normal and subnormal ranges, the
        // overflow boundary, and random values from 2^-30 to 2^17 with both signs.
        // 2047.5 and 2 - 2^-12 carry a rounded-up mantissa into the exponent (to 2048 and 2).
        var values = new List<float> { 65504f, 65519.99f, 65520f, 1e-8f, 2.9802322e-8f, 5.9604645e-8f, 8.940697e-8f, float.NaN,
            float.PositiveInfinity, float.NegativeInfinity, -0f, 0f, 2047.5f, 1.99951171875f + 1f / 4096, -70000f };
        foreach (float h in new[] { 1f, 1.0009766f, 3.0019531f, 6.1035156e-5f, 6.0975552e-5f, 1.1920929e-7f })
        {
            float ulp = (float)Half.BitIncrement((Half)h) - h;
            values.AddRange([h + ulp / 2, h + ulp * 1.5f, h + ulp / 2 * 1.001f, -(h + ulp / 2)]);
        }
        var rng = new Random(3);
        for (int i = 0; i < 400; i++) values.Add((rng.Next(2) * 2 - 1) * MathF.Pow(2, rng.NextSingle() * 47 - 30));
        float[] v = [.. values];

        var y = Run1(Device, "Cast", Attrs(("to", 10L)), In.Of([v.Length], v)).Floats!;

        for (int i = 0; i < v.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits((float)(Half)v[i]) == BitConverter.SingleToInt32Bits(y[i]) || float.IsNaN(v[i])
                && float.IsNaN(y[i]),
                $"Cast to FLOAT16 of {v[i]:R}: {y[i]:R}, expected {(float)(Half)v[i]:R}");
    }

    [Fact]
    public void Cast_truncates_saturates_and_maps_bool()
    {
        float[] v = [-300.7f, -128.9f, -2.7f, -0.5f, -0f, 0f, 0.5f, 2.7f, 127.9f, 255.9f, 300.2f, 70000.5f, 3e9f, -3e9f, 1e20f];
        var x = In.Of([v.Length], v);
        float[] Cast(long to) => Run1(Device, "Cast", Attrs(("to", to)), x).Floats!;
        float[] Sat(double lo, double hi) => v.Select(e => (float)Math.Clamp(Math.Truncate(e), lo, hi)).ToArray();

        Assert.Equal(v, Cast(1));   // FLOAT
        Assert.Equal(v.Select(e => (float)(Half)e).ToArray(), Cast(10)); // FLOAT16: rounded to half, overflow to infinity
        Assert.Equal(v, Cast(11));  // DOUBLE
        Assert.Equal(Sat(0, 255), Cast(2));              // UINT8
        Assert.Equal(Sat(-128, 127), Cast(3));           // INT8
        Assert.Equal(Sat(0, 65535), Cast(4));            // UINT16
        Assert.Equal(Sat(-32768, 32767), Cast(5));       // INT16
        Assert.Equal(Sat(int.MinValue, int.MaxValue), Cast(6));   // INT32
        Assert.Equal(Sat(long.MinValue, long.MaxValue), Cast(7)); // INT64
        Assert.Equal(Sat(0, uint.MaxValue), Cast(12));   // UINT32
        Assert.Equal(Sat(-8, 7), Cast(22));              // INT4
        Assert.Equal(v.Select(e => e != 0 ? 1f : 0f).ToArray(), Cast(9)); // BOOL
        // Spot checks of the edge cases themselves.
        var int8 = Cast(3);
        Assert.Equal([-128f, -128f, -2f, 0f], int8[..4]);
        Assert.Equal(127f, int8[8]);
        Assert.Equal([0f, 0f, 0f, 0f, 0f, 0f, 0f, 2f], Cast(2)[..8]);
    }

    [Fact]
    public void Cast_of_an_int64_constant_and_of_odd_shapes()
    {
        var y = Run1(Device, "Cast", Attrs(("to", 1)), new In([3], Ints: [-5, 0, 7], Const: true));
        Assert.Equal([-5f, 0f, 7f], y.Floats!);
        var x = In.Random([2, 3, 5, 7], 5, -40, 40);
        Assert.Equal(x.Data!.Select(e => MathF.Truncate(e)).ToArray(), Run1(Device, "Cast", Attrs(("to", 7)), x).Floats);
    }

    [Fact]
    public void Activation_nodes_convert_to_fused_activations()
    {
        static HostTensor? None(int i) => null;
        Assert.True(new Unary().Traits(new Node("Relu", "r", ["x"], ["y"])).HasFlag(OperatorTraits.IsActivation));
        Assert.False(new Unary().Traits(new Node("Exp", "e", ["x"], ["y"])).HasFlag(OperatorTraits.IsActivation));

        Assert.True(Unary.TryGetActivation(new Node("Relu", "r", ["x"], ["y"]), None, out var a));
        Assert.Equal(new FusedActivation(ActivationKind.Relu), a);
        Assert.True(Unary.TryGetActivation(new Node("LeakyRelu", "l", ["x"], ["y"]), None, out a));
        Assert.Equal(new FusedActivation(ActivationKind.LeakyRelu, 0.01f), a);
        Assert.True(Unary.TryGetActivation(new Node("HardSigmoid", "h", ["x"], ["y"]), None, out a));
        Assert.Equal(new FusedActivation(ActivationKind.HardSigmoid, 0.2f, 0.5f), a);
        Assert.True(Unary.TryGetActivation(new Node("Gelu", "g", ["x"], ["y"], Attrs(("approximate", "tanh"))), None, out a));
        Assert.Equal(ActivationKind.GeluTanh, a.Kind);

        var clip = new Node("Clip", "c", ["x", "", "hi"], ["y"]);
        Assert.True(Unary.TryGetActivation(clip, i => i == 2 ? HostTensor.Scalar(6) : null, out a));
        Assert.Equal(new FusedActivation(ActivationKind.Clip, float.NegativeInfinity, 6), a);
        Assert.True(Unary.TryGetActivation(new Node("Clip", "c", ["x"], ["y"], Attrs(("min", 0f), ("max", 6f))), None, out a));
        Assert.Equal(new FusedActivation(ActivationKind.Clip, 0, 6), a);
        Assert.False(Unary.TryGetActivation(clip, None, out _)); // bound computed at run time
        Assert.False(Unary.TryGetActivation(new Node("Exp", "e", ["x"], ["y"]), None, out _));
    }

    [Fact]
    public void Bad_unary_nodes_throw_clear_exceptions()
    {
        var x = In.Random([2, 3], 1);
        var e = Assert.Throws<UnsupportedAttributeException>(() => Run1(Device, "Clip", null, x, In.Of([], [0f])));
        Assert.Contains("clip0", e.Message);
        Assert.Contains("min", e.Message);
        Assert.Contains("max",
            Assert.Throws<UnsupportedAttributeException>(() => Run1(Device, "Clip", null, x, null, In.Of([], [1f]))).Message);
        Assert.Contains("scalar", Assert.Throws<GraphException>(() => Run1(Device, "Clip", null, x, In.Weight([2], [0f, 1f]))).Message);
        Assert.Contains("to=8", Assert.Throws<UnsupportedAttributeException>(() => Run1(Device, "Cast", Attrs(("to", 8)), x)).Message);
        Assert.Contains("to=99", Assert.Throws<GraphException>(() => Run1(Device, "Cast", Attrs(("to", 99)), x)).Message);
        Assert.Contains("'to'", Assert.Throws<GraphException>(() => Run1(Device, "Cast", null, x)).Message);
        Assert.Contains("approximate",
            Assert.Throws<GraphException>(() => Run1(Device, "Gelu", Attrs(("approximate", "fast")), x)).Message);
        Assert.Contains("alpha", Assert.Throws<GraphException>(() => Run1(Device, "LeakyRelu", Attrs(("alpha", "big")), x)).Message);
    }

    internal static float[] Map(float[] x, Func<double, double> f) => x.Select(v => (float)f(v)).ToArray();

    /// <summary>erf in double: Maclaurin series near 0, continued fraction for erfc in the tails.</summary>
    internal static double Erf(double x)
    {
        double a = Math.Abs(x);
        double r;
        if (a < 3)
        {
            double term = a, sum = a;
            for (int n = 1; n < 100; n++)
            {
                term *= -a * a / n;
                sum += term / (2 * n + 1);
            }
            r = sum * 2 / Math.Sqrt(Math.PI);
        }
        else
        {
            double f = a;
            for (int k = 80; k >= 1; k--) f = a + k / 2.0 / f;
            r = 1 - Math.Exp(-a * a) / Math.Sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }
}
