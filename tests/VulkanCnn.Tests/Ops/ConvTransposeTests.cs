using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>One ConvTranspose problem. Pads are the effective ones the reference uses; the node gets
/// either them or <see cref="OutputShape"/> / <see cref="AutoPad"/>.</summary>
public sealed record ConvTransposeCase(int N, int C, int H, int W, int M, int KH, int KW,
    int[]? Strides = null, int[]? Pads = null, int[]? OutputPadding = null, int[]? Dilations = null, int Group = 1,
    bool Bias = false, string? Act = null, int[]? OutputShape = null, string? AutoPad = null)
{
    public int SH => Strides?[0] ?? 1;
    public int SW => Strides?[1] ?? 1;
    public int DH => Dilations?[0] ?? 1;
    public int DW => Dilations?[1] ?? 1;
    public int[] OP => OutputPadding ?? [0, 0];
    public int FullH => SH * (H - 1) + OP[0] + (KH - 1) * DH + 1;
    public int FullW => SW * (W - 1) + OP[1] + (KW - 1) * DW + 1;

    /// <summary>Pads per the ONNX spec: explicit, or from output_shape / auto_pad (odd unit at the end only for SAME_UPPER).</summary>
    public int[] EffectivePads()
    {
        if (OutputShape is null && AutoPad is not ("SAME_UPPER" or "SAME_LOWER")) return Pads ?? [0, 0, 0, 0];
        int oh = OutputShape?[^2] ?? H * SH, ow = OutputShape?[^1] ?? W * SW;
        int th = FullH - oh, tw = FullW - ow, hh = (int)Math.Floor(th / 2.0), hw = (int)Math.Floor(tw / 2.0);
        return AutoPad == "SAME_UPPER" ? [hh, hw, th - hh, tw - hw] : [th - hh, tw - hw, hh, hw];
    }
}

/// <summary>ConvTranspose against a scatter-form CPU reference (the shader gathers) on odd shapes.</summary>
public sealed class ConvTransposeTests(GpuFixture gpu) : GpuTest(gpu)
{
    public static readonly Dictionary<string, ConvTransposeCase> Cases = new()
    {
        ["stride2_output_padding_bias"] = new(1, 3, 4, 5, 2, 3, 3, Strides: [2, 2], Pads: [1, 1, 1, 1], OutputPadding: [1, 1], Bias: true),
        ["k1x3_one_sided_pads"] = new(1, 5, 3, 4, 7, 1, 3, Strides: [1, 2], Pads: [0, 1, 0, 0]),
        ["k3x1_batch2"] = new(2, 3, 4, 3, 5, 3, 1, Strides: [2, 1], Pads: [1, 0, 0, 0], Bias: true),
        ["groups2_relu"] = new(1, 4, 3, 5, 6, 3, 2, Strides: [2, 3], Group: 2, Bias: true, Act: "Relu"),
        ["groups3"] = new(1, 6, 4, 3, 9, 2, 3, Strides: [1, 2], Pads: [0, 1, 1, 0], Group: 3),
        ["dilation2"] = new(1, 3, 5, 4, 4, 3, 3, Strides: [2, 2], Pads: [2, 1, 0, 1], Dilations: [2, 2]),
        ["spatial1x1_batch2"] = new(2, 5, 1, 1, 3, 4, 4, Strides: [2, 2], Bias: true),
        ["stride_over_kernel"] = new(1, 2, 3, 4, 3, 2, 2, Strides: [3, 3], OutputPadding: [2, 1]),
        ["output_shape"] = new(1, 3, 3, 4, 2, 3, 3, Strides: [2, 2], OutputShape: [7, 8], Bias: true),
        ["output_shape_4d_larger"] = new(1, 2, 3, 3, 3, 3, 3, Strides: [2, 2], OutputShape: [1, 3, 8, 9]),
        ["same_upper"] = new(1, 2, 3, 5, 3, 3, 3, Strides: [2, 2], AutoPad: "SAME_UPPER"),
        ["same_lower_clip"] = new(1, 2, 3, 5, 3, 3, 3, Strides: [2, 2], AutoPad: "SAME_LOWER", Bias: true, Act: "Clip"),
        ["depthwise_clip"] = new(1, 4, 5, 3, 4, 3, 3, Strides: [2, 2], Pads: [1, 1, 1, 1], Group: 4, Act: "Clip"),
        ["channels7_hardswish"] = new(1, 7, 4, 3, 5, 3, 3, Pads: [1, 1, 1, 1], Bias: true, Act: "HardSwish"),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Matches_cpu_reference(string name)
    {
        var c = Cases[name];
        var x = Infrastructure.Reference.Random(c.N * c.C * c.H * c.W, name.Length);
        var w = Infrastructure.Reference.Random(c.C * (c.M / c.Group) * c.KH * c.KW, name.Length + 1, -0.5f, 0.5f);
        var b = c.Bias ? Infrastructure.Reference.Random(c.M, name.Length + 2) : null;
        var y = Run1(Device, "ConvTranspose", Attributes(c), In.Of([c.N, c.C, c.H, c.W], x), In.Weight([c.C, c.M / c.Group, c.KH, c.KW], w),
            b is null ? null : In.Weight([c.M], b));
        var (expected, oh, ow) = Reference(c, x, w, b);
        Assert.Equal(new TensorShape(c.N, c.M, oh, ow), y.Shape);
        if (c.OutputShape is { } os) Assert.Equal((os[^2], os[^1]), (oh, ow));
        Tolerance.AssertClose(expected, y.Floats, Tolerance.Op, name);
    }

    [Fact]
    public void Bad_input_names_node_and_shapes()
    {
        var x = In.Random([1, 4, 3, 3], 1);
        var e = Assert.Throws<GraphException>(() => Run1(Device, "ConvTranspose", null, x, In.Weight([3, 2, 3, 3], new float[54])));
        Assert.Contains("convtranspose0", e.Message);
        Assert.Contains("[1, 4, 3, 3]", e.Message);
        Assert.Contains("[3, 2, 3, 3]", e.Message);
        e = Assert.Throws<GraphException>(() =>
            Run1(Device, "ConvTranspose", null, x, In.Weight([4, 2, 3, 3], new float[72]), In.Weight([3], new float[3])));
        Assert.Contains("bias", e.Message);
        e = Assert.Throws<GraphException>(() =>
            Run1(Device, "ConvTranspose", Attrs(("strides", new[] { 2, 2 }), ("output_padding", new[] { 2, 0 })),
            x, In.Weight([4, 2, 3, 3], new float[72])));
        Assert.Contains("output_padding", e.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "ConvTranspose", Attrs(("group", 3)), x, In.Weight([4, 2, 3, 3], new float[72])));
        Assert.Throws<UnsupportedAttributeException>(() =>
            Run1(Device, "ConvTranspose", null, In.Random([1, 4, 3, 3, 3, 3], 2), In.Weight([4, 2, 2, 2, 2, 2], new float[128])));
    }

    internal static Attributes Attributes(ConvTransposeCase c)
    {
        var a = Attrs(("strides", new[] { c.SH, c.SW }), ("dilations", new[] { c.DH, c.DW }), ("group", c.Group),
            ("kernel_shape", new[] { c.KH, c.KW }));
        if (c.OutputPadding is { } op) a.Set("output_padding", op);
        if (c.OutputShape is { } os) a.Set("output_shape", os);
        if (c.AutoPad is { } ap) a.Set("auto_pad", ap);
        else if (c.OutputShape is null && c.Pads is { } pads) a.Set("pads", pads);
        if (c.Act is { } act)
        {
            a.Set(FusedActivation.KindAttribute, act);
            if (act == "Clip") { a.Set(FusedActivation.AlphaAttribute, 0f); a.Set(FusedActivation.BetaAttribute, 6f); }
        }
        return a;
    }

    /// <summary>Scatter form: every input pixel adds its weighted kernel into the output, in double precision.</summary>
    internal static (float[] Y, int OH, int OW) Reference(ConvTransposeCase c, float[] x, float[] w, float[]? b)
    {
        int[] p = c.EffectivePads();
        int oh = c.FullH - p[0] - p[2], ow = c.FullW - p[1] - p[3];
        int cg = c.C / c.Group, mg = c.M / c.Group;
        var acc = new double[c.N * c.M * oh * ow];
        for (int n = 0; n < c.N; n++)
            for (int ic = 0; ic < c.C; ic++)
                for (int iy = 0; iy < c.H; iy++)
                    for (int ix = 0; ix < c.W; ix++)
                        for (int j = 0; j < mg; j++)
                            for (int ky = 0; ky < c.KH; ky++)
                                for (int kx = 0; kx < c.KW; kx++)
                                {
                                    int oy = iy * c.SH + ky * c.DH - p[0], ox = ix * c.SW + kx * c.DW - p[1];
                                    if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                                    int m = ic / cg * mg + j;
                                    acc[((n * c.M + m) * oh + oy) * ow + ox] +=
                                        (double)x[((n * c.C + ic) * c.H + iy) * c.W + ix] * w[((ic * mg + j) * c.KH + ky) * c.KW + kx];
                                }
        var y = new float[acc.Length];
        for (int i = 0; i < y.Length; i++)
            y[i] = (float)ConvTests.Activate(c.Act, acc[i] + (b?[i / (oh * ow) % c.M] ?? 0));
        return (y, oh, ow);
    }
}
