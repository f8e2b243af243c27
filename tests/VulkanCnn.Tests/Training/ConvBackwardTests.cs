using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Training;
using static VulkanCnn.Tests.Infrastructure.OpRunner;
using static VulkanCnn.Tests.Training.ConvGradReference;

namespace VulkanCnn.Tests.Training;

/// <summary>One Conv training problem: shapes, attributes, bias and a fused activation (alpha/beta: LeakyRelu slope, Clip
/// bounds).</summary>
public sealed record ConvGradCase(int N, int C, int H, int W, int M, int KH, int KW, int[]? S = null, int[]? P = null, int[]? D = null,
    int Group = 1, bool Bias = true, string? Act = null, float Alpha = 0, float Beta = 0) : IConvGradCase
{
    public int SH => S?[0] ?? 1;
    public int SW => S?[1] ?? 1;
    public int DH => D?[0] ?? 1;
    public int DW => D?[1] ?? 1;
    public int[] Pads => P ?? [0, 0, 0, 0];
    public int CG => C / Group;
    public int MG => M / Group;
    public int OH => (H + Pads[0] + Pads[2] - (KH - 1) * DH - 1) / SH + 1;
    public int OW => (W + Pads[1] + Pads[3] - (KW - 1) * DW - 1) / SW + 1;
    public int XCount => N * C * H * W;
    public int WCount => M * CG * KH * KW;
    public int YCount => N * M * OH * OW;

    /// <summary>Visits every (x, w, z) index triple the convolution multiplies: the forward and its adjoint share it.</summary>
    public void Taps(Action<int, int, int> visit)
    {
        int[] p = Pads;
        for (int n = 0; n < N; n++)
            for (int m = 0; m < M; m++)
                for (int oy = 0; oy < OH; oy++)
                    for (int ox = 0; ox < OW; ox++)
                        for (int ci = 0; ci < CG; ci++)
                            for (int ky = 0; ky < KH; ky++)
                                for (int kx = 0; kx < KW; kx++)
                                {
                                    int iy = oy * SH - p[0] + ky * DH, ix = ox * SW - p[1] + kx * DW;
                                    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                    int ch = m / MG * CG + ci;
                                    visit(((n * C + ch) * H + iy) * W + ix, ((m * CG + ci) * KH + ky) * KW + kx,
                                        ((n * M + m) * OH + oy) * OW + ox);
                                }
    }
}

/// <summary>Fused activations and their derivatives in double, written out here (not the runtime's).</summary>
internal static class ActivationReference
{
    public static double Apply(string? act, double z, double a, double b) => act switch
    {
        null => z,
        "Relu" => Math.Max(z, 0),
        "LeakyRelu" => z > 0 ? z : a * z,
        "Clip" => Math.Min(Math.Max(z, a), b),
        "Sigmoid" => 1 / (1 + Math.Exp(-z)),
        "Tanh" => Math.Tanh(z),
        _ => throw new ArgumentException(act),
    };

    public static double Derivative(string? act, double z, double a, double b) => act switch
    {
        null => 1,
        "Relu" => z > 0 ? 1 : 0,
        "LeakyRelu" => z > 0 ? 1 : a,
        "Clip" => z > a && z < b ? 1 : 0,
        "Sigmoid" => Apply(act, z, a, b) * (1 - Apply(act, z, a, b)),
        "Tanh" => 1 - Math.Tanh(z) * Math.Tanh(z),
        _ => throw new ArgumentException(act),
    };

    public static void Set(Attributes a, string? act, float alpha, float beta)
    {
        if (act is null) return;
        a.Set(FusedActivation.KindAttribute, act);
        a.Set(FusedActivation.AlphaAttribute, alpha);
        a.Set(FusedActivation.BetaAttribute, beta);
    }

    public static double[] ToDouble(float[] v) => v.Select(f => (double)f).ToArray();
    public static float[] ToFloat(double[] v) => v.Select(d => (float)d).ToArray();
}

/// <summary>
/// Conv backward (dX, dW, dB through a fused activation) and runtime weights: the GPU against a
/// double-precision CPU reference backward, which is itself checked against central finite differences.
/// </summary>
public sealed class ConvBackwardTests(GpuFixture gpu) : GpuTest(gpu)
{
    public static readonly Dictionary<string, ConvGradCase> Cases = new()
    {
        ["k3x3_pads_relu_batch2"] = new(2, 3, 7, 6, 5, 3, 3, P: [1, 1, 1, 1], Act: "Relu"),
        ["k2x3_stride2_one_sided"] = new(1, 5, 8, 7, 6, 2, 3, S: [2, 2], P: [0, 1, 1, 0]),
        ["stride3_dilation2_clip"] = new(2, 3, 9, 10, 4, 3, 2, S: [3, 3], P: [2, 1, 0, 2], D: [2, 2], Bias: false, Act: "Clip",
            Alpha: -0.3f, Beta: 0.4f),
        ["groups2_leaky"] = new(1, 6, 5, 6, 10, 3, 3, P: [1, 0, 1, 1], Group: 2, Act: "LeakyRelu", Alpha: 0.1f),
        ["depthwise_multiplier2_sigmoid"] = new(2, 3, 6, 7, 6, 3, 3, S: [2, 1], P: [1, 1, 1, 1], Group: 3, Act: "Sigmoid"),
        ["depthwise_5x5_dilation2"] = new(1, 5, 9, 8, 5, 5, 5, P: [4, 3, 4, 4], D: [2, 2], Group: 5),
        ["pointwise_channels7_tanh"] = new(2, 7, 4, 5, 9, 1, 1, Act: "Tanh"),
        ["channels17_k1x5_stride1x2"] = new(1, 17, 5, 9, 18, 1, 5, S: [1, 2], P: [0, 2, 0, 1]),
        ["stride3_over_k1x1_batch2"] = new(2, 5, 7, 8, 6, 1, 1, S: [3, 3], Bias: false),
        ["spatial1x1_k3x3"] = new(2, 4, 1, 1, 3, 3, 3, P: [1, 1, 1, 1]),
        ["groups3_k3x1_stride2x3"] = new(1, 9, 7, 8, 6, 3, 1, S: [2, 3], P: [1, 0, 0, 0], Group: 3),
        // Enough output rows for several weight-gradient chunks (conv_backward_reduce).
        ["chunked_16x16_batch2"] = new(2, 3, 16, 16, 5, 3, 3, P: [1, 1, 1, 1], Act: "Relu"),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);
    /// <summary>The reference is one loop nest for every case; the large one would only slow the check down.</summary>
    public static TheoryData<string> SmallCaseNames => new(Cases.Keys.Where(k => !k.StartsWith("chunked")));

    [Theory]
    [MemberData(nameof(SmallCaseNames))]
    public void Reference_backward_matches_finite_differences(string name)
    {
        ConvGradReference.AssertBackwardMatchesFiniteDifferences(Cases[name], name.Length, name);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Gpu_backward_matches_reference(string name)
    {
        var c = Cases[name];
        var (x, w, b, dy) = Data(c, name.Length);
        var r = Run(c, x, w, b, dy, constantWeights: false);
        AssertMatches(c, x, w, b, dy, r, name);
    }

    /// <summary>A conv on the GPU tiles takes its gradients through the tiled backward kernels (NCHW dz, split dW): every case,
    /// with gradients added onto initial values, twice bit for bit.</summary>
    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Tiled_backward_matches_reference(string name)
    {
        var c = Cases[name];
        var (x, w, b, dy) = Data(c, name.Length + 1);
        var init = new[] { c.XCount, c.WCount, c.M }.Select((n, i) => Reference.Random(n, 50 + i)).ToArray();
        foreach (var variant in new[] { "gemm_tiled", "gemm_tiled_splitk" })
        {
            var attrs = Attributes(c).Set(ConvStrategySelector.Attribute, variant);
            var node = new Node("Conv", "conv0", c.Bias ? ["x", "w", "b"] : ["x", "w"], ["y"], attrs);
            BackwardResult Go() => BackwardRunner.Run(Device, node, Inputs(c, x, w, b, false),
                [HostTensor.FromFloats([c.N, c.M, c.OH, c.OW], F(dy))], [true, true, b is not null], training: true,
                init.Select((v, i) => i < 2 || b is not null
                    ? HostTensor.FromFloats(i switch { 0 => [c.N, c.C, c.H, c.W], 1 => [c.M, c.CG, c.KH, c.KW], _ => [c.M] }, v)
                    : null).ToList());
            var r = Go();
            var (dx, dw, db) = Backward(c, x, w, b, dy);
            Tolerance.AssertClose(F(Forward(c, x, w, b)), r.Outputs[0].Floats, Tolerance.Op, $"{name} {variant} forward");
            double[]?[] grads = [dx, dw, db];
            for (int i = 0; i < 3; i++)
                if (grads[i] is { } grad)
                    Tolerance.AssertClose(F(grad.Select((v, k) => v + init[i][k]).ToArray()), r.InputGradients[i]!.Floats, Tolerance.Op,
                        $"{name} {variant} gradient of input {i}");
            Assert.Equal(r.InputGradients[1]!.Floats, Go().InputGradients[1]!.Floats);
        }
    }

    [Fact]
    public void Gradients_add_to_initial_values_and_repeat_bit_for_bit()
    {
        var c = Cases["chunked_16x16_batch2"];
        var (x, w, b, dy) = Data(c, 5);
        var init = new[] { c.XCount, c.WCount, c.M }.Select((n, i) => Reference.Random(n, 40 + i)).ToArray();
        var r1 = Run(c, x, w, b, dy, constantWeights: true, init);
        var r2 = Run(c, x, w, b, dy, constantWeights: true, init);
        var (dx, dw, db) = Backward(c, x, w, b, dy);
        double[][] grads = [dx, dw, db!];
        for (int i = 0; i < 3; i++)
        {
            Tolerance.AssertClose(F(grads[i].Select((g, k) => g + init[i][k]).ToArray()), r1.InputGradients[i]!.Floats, Tolerance.Op,
                $"input {i}");
            Assert.Equal(r1.InputGradients[i]!.Floats, r2.InputGradients[i]!.Floats);
        }
    }

    [Fact]
    public void Only_requested_gradients_are_written()
    {
        var c = Cases["groups2_leaky"];
        var (x, w, b, dy) = Data(c, 3);
        var node = Node(c);
        var r = BackwardRunner.Run(Device, node, Inputs(c, x, w, b, false), [HostTensor.FromFloats([c.N, c.M, c.OH, c.OW], F(dy))],
            [false, true, false]);
        Assert.Null(r.InputGradients[0]);
        Assert.Null(r.InputGradients[2]);
        Tolerance.AssertClose(F(Backward(c, x, w, b, dy).Dw), r.InputGradients[1]!.Floats, Tolerance.Op, "dW alone");
    }

    public static TheoryData<string, string> StrategyCases => new()
    {
        { "k3x3_pads_relu_batch2", "direct" }, { "k3x3_pads_relu_batch2", "gemm" }, { "groups2_leaky", "gemm" },
        { "channels17_k1x5_stride1x2", "gemm" }, { "pointwise_channels7_tanh", "1x1" },
        { "depthwise_multiplier2_sigmoid", "depthwise" }, { "depthwise_5x5_dilation2", "depthwise" },
    };

    [Theory]
    [MemberData(nameof(StrategyCases))]
    public void Runtime_weights_give_the_constant_weights_result(string name, string strategy)
    {
        var c = Cases[name];
        var (x, w, b, _) = Data(c, 9);
        var attrs = Attributes(c);
        attrs.Set(ConvStrategySelector.Attribute, strategy);
        HostTensor Y(bool constant) => Run1(Device, "Conv", attrs, In.Of([c.N, c.C, c.H, c.W], F(x)),
            new In([c.M, c.CG, c.KH, c.KW], F(w), Const: constant), b is null ? null : new In([c.M], F(b), Const: constant));
        var runtime = Y(false);
        Tolerance.AssertClose(F(Forward(c, x, w, b)), runtime.Floats, Tolerance.Op, $"{name} ({strategy})");
        Assert.Equal(Y(true).Floats, runtime.Floats);
    }

    [Fact]
    public void Backward_through_an_unsupported_activation_is_refused()
    {
        var c = Cases["k3x3_pads_relu_batch2"] with { Act = "HardSwish" };
        var (x, w, b, dy) = Data(c, 1);
        var e = Assert.Throws<UnsupportedAttributeException>(() => BackwardRunner.Run(Device, Node(c), Inputs(c, x, w, b, false),
            [HostTensor.FromFloats([c.N, c.M, c.OH, c.OW], F(dy))], [true, true, true]));
        Assert.Contains("conv0", e.Message);
        Assert.Contains("HardSwish", e.Message);
        c = c with { Act = "LeakyRelu", Alpha = -0.5f };
        e = Assert.Throws<UnsupportedAttributeException>(() => BackwardRunner.Run(Device, Node(c), Inputs(c, x, w, b, false),
            [HostTensor.FromFloats([c.N, c.M, c.OH, c.OW], F(dy))], [true, false, false]));
        Assert.Contains("alpha", e.Message);
    }

    private BackwardResult Run(ConvGradCase c, double[] x, double[] w, double[]? b, double[] dy, bool constantWeights,
        float[][]? init = null) =>
        BackwardRunner.Run(Device, Node(c), Inputs(c, x, w, b, constantWeights), [HostTensor.FromFloats([c.N, c.M, c.OH, c.OW], F(dy))],
            [true, true, b is not null], training: true,
            init?.Select((v, i) => i < 2 || b is not null
                ? HostTensor.FromFloats(i switch { 0 => [c.N, c.C, c.H, c.W], 1 => [c.M, c.CG, c.KH, c.KW], _ => [c.M] }, v)
                    : null).ToList());

    private static Node Node(ConvGradCase c) => new("Conv", "conv0", c.Bias ? ["x", "w", "b"] : ["x", "w"], ["y"], Attributes(c));

    private static List<NodeInput?> Inputs(ConvGradCase c, double[] x, double[] w, double[]? b, bool constantWeights) =>
    [
        new(HostTensor.FromFloats([c.N, c.C, c.H, c.W], F(x))),
        new(HostTensor.FromFloats([c.M, c.CG, c.KH, c.KW], F(w)), constantWeights),
        .. b is null ? Array.Empty<NodeInput?>() : [new(HostTensor.FromFloats([c.M], F(b)), constantWeights)],
    ];

    private static Attributes Attributes(ConvGradCase c)
    {
        var a = Attrs(("strides", new[] { c.SH, c.SW }), ("pads", c.Pads), ("dilations", new[] { c.DH, c.DW }), ("group", c.Group),
            ("kernel_shape", new[] { c.KH, c.KW }));
        ActivationReference.Set(a, c.Act, c.Alpha, c.Beta);
        return a;
    }

    private static float[] F(double[] v) => ActivationReference.ToFloat(v);
}
