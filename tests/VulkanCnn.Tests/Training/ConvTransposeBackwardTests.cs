using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Training;
using static VulkanCnn.Tests.Infrastructure.OpRunner;
using static VulkanCnn.Tests.Training.ConvGradReference;

namespace VulkanCnn.Tests.Training;

/// <summary>One ConvTranspose training problem. <see cref="P"/> are the pads given to the node; with
/// <see cref="OutputShape"/> the node gets that instead and the pads follow from it (possibly negative).</summary>
public sealed record ConvTransposeGradCase(int N, int C, int H, int W, int M, int KH, int KW, int[]? S = null, int[]? P = null,
    int[]? OP = null,
    int[]? D = null, int Group = 1, bool Bias = true, string? Act = null, float Alpha = 0, float Beta = 0, int[]? OutputShape = null)
        : IConvGradCase
{
    public int SH => S?[0] ?? 1;
    public int SW => S?[1] ?? 1;
    public int DH => D?[0] ?? 1;
    public int DW => D?[1] ?? 1;
    public int MG => M / Group;
    public int CG => C / Group;
    public int FullH => SH * (H - 1) + (OP?[0] ?? 0) + (KH - 1) * DH + 1;
    public int FullW => SW * (W - 1) + (OP?[1] ?? 0) + (KW - 1) * DW + 1;

    /// <summary>ONNX: explicit pads, or from output_shape with the odd unit at the beginning (NOTSET).</summary>
    public int[] Pads
    {
        get
        {
            if (OutputShape is null) return P ?? [0, 0, 0, 0];
            int th = FullH - OutputShape[0], tw = FullW - OutputShape[1], hh = (int)Math.Floor(th / 2.0), hw = (int)Math.Floor(tw / 2.0);
            return [th - hh, tw - hw, hh, hw];
        }
    }

    public int OH => FullH - Pads[0] - Pads[2];
    public int OW => FullW - Pads[1] - Pads[3];
    public int XCount => N * C * H * W;
    public int WCount => C * MG * KH * KW;
    public int YCount => N * M * OH * OW;

    /// <summary>Scatter form: every input pixel adds its weighted kernel into the output; visits (x, w, z) index triples.</summary>
    public void Taps(Action<int, int, int> visit)
    {
        int[] p = Pads;
        for (int n = 0; n < N; n++)
            for (int ic = 0; ic < C; ic++)
                for (int iy = 0; iy < H; iy++)
                    for (int ix = 0; ix < W; ix++)
                        for (int j = 0; j < MG; j++)
                            for (int ky = 0; ky < KH; ky++)
                                for (int kx = 0; kx < KW; kx++)
                                {
                                    int oy = iy * SH + ky * DH - p[0], ox = ix * SW + kx * DW - p[1];
                                    if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                                    int m = ic / CG * MG + j;
                                    visit(((n * C + ic) * H + iy) * W + ix, ((ic * MG + j) * KH + ky) * KW + kx,
                                        ((n * M + m) * OH + oy) * OW + ox);
                                }
    }
}

/// <summary>ConvTranspose backward and runtime weights against a double-precision scatter-form CPU reference,
/// itself checked against central finite differences.</summary>
public sealed class ConvTransposeBackwardTests(GpuFixture gpu) : GpuTest(gpu)
{
    public static readonly Dictionary<string, ConvTransposeGradCase> Cases = new()
    {
        ["stride2_output_padding"] = new(1, 3, 4, 5, 2, 3, 3, S: [2, 2], P: [1, 1, 1, 1], OP: [1, 1]),
        ["groups2_relu_batch2"] = new(2, 4, 3, 5, 6, 3, 2, S: [2, 3], Group: 2, Act: "Relu"),
        ["dilation2_one_sided_clip"] = new(1, 3, 5, 4, 4, 3, 3, S: [2, 2], P: [2, 1, 0, 1], D: [2, 2], Bias: false, Act: "Clip",
            Alpha: -0.2f, Beta: 0.5f),
        ["output_shape_larger"] = new(1, 2, 3, 3, 3, 3, 3, S: [2, 2], OutputShape: [8, 9]),
        ["depthwise_leaky_batch2"] = new(2, 4, 5, 3, 4, 3, 3, S: [2, 2], P: [1, 1, 1, 1], Group: 4, Act: "LeakyRelu", Alpha: 0.2f),
        ["channels7_k1x3_tanh"] = new(1, 7, 4, 3, 5, 1, 3, P: [0, 1, 0, 1], Act: "Tanh"),
        ["stride3_over_kernel"] = new(1, 2, 3, 4, 3, 2, 2, S: [3, 3], OP: [2, 1]),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
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
        var init = new[] { c.XCount, c.WCount, c.M }.Select((n, i) => Reference.Random(n, 50 + i)).ToArray();
        var r = BackwardRunner.Run(Device, Node(c), Inputs(c, x, w, b, constant: false),
            [HostTensor.FromFloats([c.N, c.M, c.OH, c.OW], F(dy))],
            [true, true, b is not null], training: true,
            [HostTensor.FromFloats([c.N, c.C, c.H, c.W], init[0]), HostTensor.FromFloats([c.C, c.MG, c.KH, c.KW], init[1]),
             b is null ? null : HostTensor.FromFloats([c.M], init[2])]);
        var (dx, dw, db) = Backward(c, x, w, b, dy);
        Tolerance.AssertClose(F(Forward(c, x, w, b)), r.Outputs[0].Floats, Tolerance.Op, name + " forward");
        // The gradients started from init: the kernels add to them.
        Tolerance.AssertClose(F(dx.Select((v, i) => v + init[0][i]).ToArray()), r.InputGradients[0]!.Floats, Tolerance.Op, name + " dX");
        Tolerance.AssertClose(F(dw.Select((v, i) => v + init[1][i]).ToArray()), r.InputGradients[1]!.Floats, Tolerance.Op, name + " dW");
        if (db is not null) Tolerance.AssertClose(F(db.Select((v, i) => v + init[2][i]).ToArray()), r.InputGradients[2]!.Floats,
            Tolerance.Op, name + " dB");
    }

    [Theory]
    [InlineData("groups2_relu_batch2")]
    [InlineData("output_shape_larger")]
    public void Runtime_weights_give_the_constant_weights_result(string name)
    {
        var c = Cases[name];
        var (x, w, b, _) = Data(c, 4);
        HostTensor Y(bool constant) => Run1(Device, "ConvTranspose", Attributes(c), In.Of([c.N, c.C, c.H, c.W], F(x)),
            new In([c.C, c.MG, c.KH, c.KW], F(w), Const: constant), b is null ? null : new In([c.M], F(b), Const: constant));
        var runtime = Y(false);
        Tolerance.AssertClose(F(Forward(c, x, w, b)), runtime.Floats, Tolerance.Op, name);
        Assert.Equal(Y(true).Floats, runtime.Floats);
    }

    private static Node Node(ConvTransposeGradCase c) =>
        new("ConvTranspose", "convtranspose0", c.Bias ? ["x", "w", "b"] : ["x", "w"], ["y"], Attributes(c));

    private static List<NodeInput?> Inputs(ConvTransposeGradCase c, double[] x, double[] w, double[]? b, bool constant) =>
    [
        new(HostTensor.FromFloats([c.N, c.C, c.H, c.W], F(x))),
        new(HostTensor.FromFloats([c.C, c.MG, c.KH, c.KW], F(w)), constant),
        .. b is null ? Array.Empty<NodeInput?>() : [new(HostTensor.FromFloats([c.M], F(b)), constant)],
    ];

    private static Attributes Attributes(ConvTransposeGradCase c)
    {
        var a = Attrs(("strides", new[] { c.SH, c.SW }), ("dilations", new[] { c.DH, c.DW }), ("group", c.Group),
            ("kernel_shape", new[] { c.KH, c.KW }));
        if (c.OP is { } op) a.Set("output_padding", op);
        if (c.OutputShape is { } os) a.Set("output_shape", os);
        else if (c.P is { } pads) a.Set("pads", pads);
        ActivationReference.Set(a, c.Act, c.Alpha, c.Beta);
        return a;
    }

    private static float[] F(double[] v) => ActivationReference.ToFloat(v);
}
