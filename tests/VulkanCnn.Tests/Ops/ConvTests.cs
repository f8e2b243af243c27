using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>One Conv problem: shapes, attributes, bias and a fused activation.</summary>
public sealed record ConvCase(int N, int C, int H, int W, int M, int KH, int KW,
    int[]? Strides = null, int[]? Pads = null, int[]? Dilations = null, int Group = 1, bool Bias = false, string? Act = null)
{
    public int SH => Strides?[0] ?? 1;
    public int SW => Strides?[1] ?? 1;
    public int DH => Dilations?[0] ?? 1;
    public int DW => Dilations?[1] ?? 1;
    public int[] P => Pads ?? [0, 0, 0, 0];
    public bool Pointwise => KH == 1 && KW == 1 && SH == 1 && SW == 1 && P.All(p => p == 0);
    public bool Depthwise => Group == C && C / Group == 1;
}

/// <summary>Conv: every strategy against a naive CPU reference on odd shapes, auto_pad, the strategy
/// selector, and bad input.</summary>
public sealed class ConvTests(GpuFixture gpu) : GpuTest(gpu)
{
    public static readonly Dictionary<string, ConvCase> Cases = new()
    {
        ["k1x3_relu"] = new(1, 3, 5, 7, 5, 1, 3, Pads: [0, 1, 0, 1], Bias: true, Act: "Relu"),
        ["k3x1_stride2x1"] = new(1, 5, 7, 4, 6, 3, 1, Strides: [2, 1], Pads: [1, 0, 1, 0]),
        ["k1x7"] = new(1, 6, 3, 11, 7, 1, 7, Pads: [0, 3, 0, 3], Bias: true),
        ["k7x1_batch2"] = new(2, 4, 9, 3, 5, 7, 1, Pads: [3, 0, 3, 0]),
        ["one_sided_pads_clip"] = new(1, 7, 6, 5, 9, 3, 3, Pads: [0, 1, 1, 0], Bias: true, Act: "Clip"),
        ["stride3_k1x1"] = new(1, 5, 7, 8, 6, 1, 1, Strides: [3, 3]),
        ["stride3_k2x2"] = new(1, 3, 8, 7, 4, 2, 2, Strides: [3, 3], Pads: [1, 0, 0, 1], Bias: true),
        ["dilation2_hardswish"] = new(1, 6, 9, 8, 7, 3, 3, Pads: [2, 2, 2, 2], Dilations: [2, 2], Act: "HardSwish"),
        ["groups2"] = new(1, 6, 5, 6, 10, 3, 3, Pads: [1, 1, 1, 1], Group: 2, Bias: true),
        ["groups3_stride2"] = new(1, 9, 6, 5, 6, 3, 2, Strides: [2, 2], Pads: [1, 0, 1, 1], Group: 3),
        ["depthwise_relu"] = new(1, 5, 7, 6, 5, 3, 3, Pads: [1, 1, 1, 1], Group: 5, Bias: true, Act: "Relu"),
        ["depthwise_multiplier2"] = new(1, 3, 6, 9, 6, 3, 3, Strides: [2, 2], Pads: [1, 1, 0, 0], Group: 3),
        ["depthwise_5x5_dilation2_batch2"] = new(2, 6, 9, 10, 6, 5, 5, Pads: [4, 4, 4, 4], Dilations: [2, 2], Group: 6, Bias: true,
            Act: "Clip"),
        ["spatial1x1_k1x1_batch2"] = new(2, 5, 1, 1, 7, 1, 1, Bias: true),
        ["spatial1x1_k3x3"] = new(1, 4, 1, 1, 3, 3, 3, Pads: [1, 1, 1, 1], Bias: true, Act: "HardSwish"),
        ["pointwise_unaligned_batch2"] = new(2, 7, 5, 6, 9, 1, 1, Bias: true, Act: "Relu"),
        ["pointwise_aligned_ragged_m"] = new(1, 6, 4, 5, 17, 1, 1, Act: "HardSwish"),
        ["pointwise_groups3"] = new(1, 6, 3, 4, 9, 1, 1, Group: 3, Bias: true),
        ["ragged_gemm_batch2_clip"] = new(2, 13, 11, 9, 21, 3, 3, Pads: [1, 1, 1, 1], Bias: true, Act: "Clip"),
        ["batch2_stride2"] = new(2, 5, 10, 9, 6, 3, 3, Strides: [2, 2], Pads: [1, 1, 1, 1]),
        ["depthwise_2x2_stride2_multiplier2"] = new(1, 4, 7, 6, 8, 2, 2, Strides: [2, 2], Pads: [0, 0, 1, 1], Group: 4, Bias: true),
        ["depthwise_k1x7_stride2"] = new(1, 3, 5, 17, 3, 1, 7, Strides: [1, 2], Pads: [0, 3, 0, 2], Group: 3, Act: "HardSwish"),
        ["depthwise_k7x1_batch2"] = new(2, 6, 9, 5, 6, 7, 1, Pads: [3, 0, 2, 0], Group: 6, Bias: true),
        ["depthwise_spatial1x1"] = new(1, 5, 1, 1, 5, 3, 3, Pads: [1, 1, 1, 1], Group: 5, Bias: true, Act: "Relu"),
        ["stride4_k1x2_dilation2"] = new(1, 5, 9, 11, 3, 1, 2, Strides: [4, 4], Pads: [1, 0, 0, 2], Dilations: [1, 2], Act: "Relu"),
        ["single_input_channel_5x5"] = new(1, 1, 8, 8, 4, 5, 5, Pads: [2, 2, 2, 2], Bias: true),
        // Winograd's shapes: tiles ragged at the right and bottom edges, channels past a block of 4 / 16, no padding.
        ["k3x3_ragged_tiles_batch2_relu"] = new(2, 17, 10, 9, 19, 3, 3, Pads: [1, 1, 1, 1], Bias: true, Act: "Relu"),
        ["k3x3_valid"] = new(1, 8, 7, 6, 16, 3, 3),
        ["k3x3_one_sided_pads_hardswish"] = new(1, 4, 5, 11, 3, 3, 3, Pads: [0, 2, 1, 0], Bias: true, Act: "HardSwish"),
        // gemm_tiled's shapes: two channel tiles of 64 (the second ragged), K = 45 in three ragged slices of 16.
        ["two_channel_tiles_relu"] = new(1, 5, 6, 7, 70, 3, 3, Pads: [1, 1, 1, 1], Bias: true, Act: "Relu"),
        // Split-K's: K = 9 · 64 = 576 in 36 slices, split 16 ways (over one output tile), with the residual and activation after.
        ["deep_k_few_tiles_clip"] = new(1, 64, 4, 3, 6, 3, 3, Pads: [1, 1, 1, 1], Bias: true, Act: "Clip"),
    };

    /// <summary>Every Conv variant that can compute the case (asked of the operator, so a new variant joins the matrix).</summary>
    public static IEnumerable<string> StrategiesFor(ConvCase c)
    {
        var node = new Node("Conv", "c", ["x", "w", "b"], ["y"], Attributes(c));
        TensorShape?[] shapes = [new TensorShape(c.N, c.C, c.H, c.W), new TensorShape(c.M, c.C / c.Group, c.KH, c.KW),
            new TensorShape(c.M)];
        var g = ConvGeometry.ForConv(new OpContext(node, shapes, [null, null, null]));
        return ConvStrategySelector.Names.Where(v => ConvStrategySelector.Refusal(ConvStrategySelector.Parse(v), g) is null);
    }

    public static TheoryData<string, string> CaseStrategies()
    {
        var data = new TheoryData<string, string>();
        foreach (var (name, c) in Cases)
            foreach (var s in StrategiesFor(c)) data.Add(name, s);
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseStrategies))]
    public void Strategy_matches_cpu_reference(string name, string strategy)
    {
        var c = Cases[name];
        var (x, w, b) = Inputs(c, seed: name.Length);
        var attrs = Attributes(c);
        attrs.Set(ConvStrategySelector.Attribute, strategy);
        var y = Run1(Device, "Conv", attrs, In.Of([c.N, c.C, c.H, c.W], x), In.Weight([c.M, c.C / c.Group, c.KH, c.KW], w),
            b is null ? null : In.Weight([c.M], b));
        var (expected, oh, ow) = Reference(c, x, w, b);
        Assert.Equal(new TensorShape(c.N, c.M, oh, ow), y.Shape);
        Tolerance.AssertClose(expected, y.Floats, Tolerance.ForConvVariant(strategy), $"{name} ({strategy})");
    }

    /// <summary>Cases whose output gets a fused residual (Passes/FuseResidualAdds): every epilogue shape, each variant.</summary>
    public static TheoryData<string, string> ResidualCaseStrategies()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in new[] { "ragged_gemm_batch2_clip", "k3x3_ragged_tiles_batch2_relu", "pointwise_unaligned_batch2",
            "pointwise_aligned_ragged_m", "depthwise_relu", "k3x3_valid" })
            foreach (var s in StrategiesFor(Cases[name])) data.Add(name, s);
        return data;
    }

    [Theory]
    [MemberData(nameof(ResidualCaseStrategies))]
    public void Residual_epilogue_matches_cpu_reference(string name, string strategy)
    {
        // y = act(conv(x) + b + r): the reference adds r before the activation, as the fused Add did.
        var c = Cases[name];
        var (x, w, b) = Inputs(c, seed: name.Length + 3);
        var plain = c with { Act = null };
        var (conv, oh, ow) = Reference(plain, x, w, b);
        var r = Infrastructure.Reference.Random(conv.Length, name.Length + 9);
        var expected = conv.Select((v, i) => (float)Activate(c.Act, (double)v + r[i])).ToArray();
        var attrs = Attributes(c);
        attrs.Set(ConvStrategySelector.Attribute, strategy);
        var y = Run1(Device, "Conv", attrs, In.Of([c.N, c.C, c.H, c.W], x), In.Weight([c.M, c.C / c.Group, c.KH, c.KW], w),
            b is null ? null : In.Weight([c.M], b), In.Of([c.N, c.M, oh, ow], r));
        Tolerance.AssertClose(expected, y.Floats, Tolerance.ForConvVariant(strategy), $"{name} ({strategy}) + residual");
    }

    [Fact]
    public void Residual_of_another_shape_is_refused_naming_the_node()
    {
        var c = Cases["k3x3_valid"];
        var (x, w, _) = Inputs(c, seed: 2);
        var e = Assert.ThrowsAny<GraphException>(() => Run1(Device, "Conv", Attributes(c), In.Of([c.N, c.C, c.H, c.W], x),
            In.Weight([c.M, c.C, 3, 3], w), null, In.Of([1, c.M, 1, 1], new float[c.M])));
        Assert.Contains("residual", e.Message);
    }

    [Fact]
    public void Default_strategy_matches_reference()
    {
        foreach (var name in new[] { "ragged_gemm_batch2_clip", "pointwise_unaligned_batch2", "depthwise_multiplier2" })
        {
            var c = Cases[name];
            var (x, w, b) = Inputs(c, seed: 7);
            var y = Run1(Device, "Conv", Attributes(c), In.Of([c.N, c.C, c.H, c.W], x), In.Weight([c.M, c.C / c.Group, c.KH, c.KW], w),
                b is null ? null : In.Weight([c.M], b));
            Tolerance.AssertClose(Reference(c, x, w, b).Y, y.Floats, Tolerance.Op, name);
        }
    }

    [Theory]
    [InlineData("SAME_UPPER", "gemm")]
    [InlineData("SAME_LOWER", "gemm")]
    [InlineData("VALID", "gemm")]
    [InlineData("SAME_UPPER", "direct")]
    [InlineData("SAME_LOWER", "direct")]
    [InlineData("VALID", "direct")]
    public void Auto_pad_matches_reference(string autoPad, string strategy)
    {
        const int h = 7, wd = 6, kh = 4, kw = 3, s = 2;
        int oh = autoPad == "VALID" ? (h - kh) / s + 1 : (h + s - 1) / s, ow = autoPad == "VALID" ? (wd - kw) / s + 1 : (wd + s - 1) / s;
        int th = Math.Max(0, (oh - 1) * s + kh - h), tw = Math.Max(0, (ow - 1) * s + kw - wd);
        int[] pads = autoPad switch
        {
            "SAME_UPPER" => [th / 2, tw / 2, th - th / 2, tw - tw / 2],
            "SAME_LOWER" => [th - th / 2, tw - tw / 2, th / 2, tw / 2],
            _ => [0, 0, 0, 0],
        };
        var c = new ConvCase(1, 3, h, wd, 5, kh, kw, Strides: [s, s], Pads: pads, Bias: true);
        var (x, w, b) = Inputs(c, seed: 11);
        var attrs = Attrs(("auto_pad", autoPad), ("strides", new[] { s, s }), (ConvStrategySelector.Attribute, strategy));
        var y = Run1(Device, "Conv", attrs, In.Of([1, 3, h, wd], x), In.Weight([5, 3, kh, kw], w), In.Weight([5], b!));
        Assert.Equal(new TensorShape(1, 5, oh, ow), y.Shape);
        Tolerance.AssertClose(Reference(c, x, w, b).Y, y.Floats, Tolerance.Op, autoPad);
    }

    [Fact]
    public void Selector_picks_1x1_depthwise_and_gemm()
    {
        var info = Device.Info;
        ConvGeometry G(int c, int m, int hw, int k, int s, int p, int group) =>
            new(1, c, hw, hw, m, (hw + 2 * p - k) / s + 1, (hw + 2 * p - k) / s + 1, k, k, s, s, 1, 1, p, p, p, p, group);
        Assert.Equal(ConvStrategy.Pointwise, ConvStrategySelector.Choose(G(64, 256, 56, 1, 1, 0, 1), info));
        Assert.Equal(ConvStrategy.Depthwise, ConvStrategySelector.Choose(G(32, 32, 56, 3, 1, 1, 32), info));
        Assert.Equal(ConvStrategy.Depthwise, ConvStrategySelector.Choose(G(32, 64, 56, 3, 2, 1, 32), info));
        foreach (var (ch, hw) in new[] { (64, 56), (128, 28), (256, 14), (512, 7) })
            Assert.Equal(ConvStrategy.Gemm, ConvStrategySelector.Choose(G(ch, ch, hw, 3, 1, 1, 1), info));
        Assert.Equal(ConvStrategy.Gemm, ConvStrategySelector.Choose(G(64, 128, 56, 1, 2, 0, 1), info)); // strided 1x1 downsample
        // With constant weights, ResNet's 3x3 stride-1 layers go to Winograd: F(4,3) on 56², 28² and 14², F(2,3) on 7².
        Assert.Equal(ConvStrategy.WinogradF4, ConvStrategySelector.Choose(G(64, 64, 56, 3, 1, 1, 1), info, constantWeights: true));
        Assert.Equal(ConvStrategy.WinogradF4, ConvStrategySelector.Choose(G(128, 128, 28, 3, 1, 1, 1), info, constantWeights: true));
        Assert.Equal(ConvStrategy.WinogradF4, ConvStrategySelector.Choose(G(256, 256, 14, 3, 1, 1, 1), info, constantWeights: true));
        Assert.Equal(ConvStrategy.WinogradF2, ConvStrategySelector.Choose(G(512, 512, 7, 3, 1, 1, 1), info, constantWeights: true));
        // A layer whose transformed tensors exceed one buffer falls back to gemm: the data (F(4,3) expands it 2.25x, F(2,3)
        // 4x) or the weights (4x, 1.8x). Past 4 GiB, beyond any device's maxStorageBufferRange.
        foreach (var huge in new[] { G(64, 64, 4096, 3, 1, 1, 1), G(12288, 12288, 7, 3, 1, 1, 1) })
        {
            Assert.Contains("transformed tensors", ConvStrategySelector.Refusal(ConvStrategy.WinogradF4, huge, info));
            Assert.Contains("transformed tensors", ConvStrategySelector.Refusal(ConvStrategy.WinogradF2, huge, info));
            Assert.Equal(ConvStrategy.Gemm, ConvStrategySelector.Choose(huge, info, constantWeights: true));
        }
        // Not below 16 channels in or out, not strided.
        Assert.Equal(ConvStrategy.Gemm, ConvStrategySelector.Choose(G(8, 64, 56, 3, 1, 1, 1), info, constantWeights: true));
        Assert.Equal(ConvStrategy.Gemm, ConvStrategySelector.Choose(G(64, 8, 56, 3, 1, 1, 1), info, constantWeights: true));
        Assert.Equal(ConvStrategy.Gemm, ConvStrategySelector.Choose(G(64, 128, 56, 3, 2, 1, 1), info, constantWeights: true));
        Assert.Equal(ConvStrategy.Gemm, ConvStrategySelector.Choose(G(32, 32, 56, 3, 3, 1, 32), info)); // stride 3: beyond conv_depthwise
        Assert.Equal("1x1", ConvStrategySelector.Name(ConvStrategy.Pointwise));

        // A GPU-class device (lavapipe's limits, another device type) takes the shared-memory tiles where a CPU takes gemm or
        // 1x1; depthwise and Winograd stay. A grid beyond the device's counts refuses the tiles by name.
        var gpu = info with { Type = DeviceKind.DiscreteGpu };
        Assert.Equal(ConvStrategy.GemmTiled, ConvStrategySelector.Choose(G(64, 256, 56, 1, 1, 0, 1), gpu));
        Assert.Equal(ConvStrategy.GemmTiled, ConvStrategySelector.Choose(G(64, 128, 112, 3, 2, 1, 1), gpu, constantWeights: true));
        // ResNet's stride-2 3x3 into the last stage at batch 1: 1 pixel tile (7x7) x 8 channel tiles, K = 2304: split-K, 16 ways.
        Assert.Equal(ConvStrategy.GemmTiledSplitK, ConvStrategySelector.Choose(G(256, 512, 14, 3, 2, 1, 1), gpu, constantWeights: true));
        Assert.Equal(16, ConvTiled.Splits(G(256, 512, 14, 3, 2, 1, 1)));
        Assert.Equal(ConvStrategy.GemmTiledSplitK, ConvStrategySelector.Choose(G(64, 64, 56, 3, 1, 1, 1), gpu)); // 49 tiles, K 576
        Assert.Equal(ConvStrategy.WinogradF4, ConvStrategySelector.Choose(G(64, 64, 56, 3, 1, 1, 1), gpu, constantWeights: true));
        Assert.Equal(ConvStrategy.Depthwise, ConvStrategySelector.Choose(G(32, 32, 56, 3, 1, 1, 32), gpu));
        var tiny = gpu with { Limits = gpu.Limits with { MaxWorkGroupCount = [16, 65535, 65535] } };
        Assert.Contains("grid of tiles", ConvStrategySelector.Refusal(ConvStrategy.GemmTiled, G(64, 64, 56, 3, 1, 1, 1), tiny));
        Assert.Equal(ConvStrategy.Gemm, ConvStrategySelector.Choose(G(64, 64, 56, 3, 1, 1, 1), tiny));
        Assert.Equal(ConvStrategy.GemmTiled, ConvStrategySelector.Choose(G(64, 64, 112, 3, 1, 1, 1), gpu)); // 196 tiles
    }

    [Fact]
    public void Bad_input_names_node_and_shapes()
    {
        var x = In.Random([1, 6, 5, 5], 1);
        var e = Assert.Throws<GraphException>(() => Run1(Device, "Conv", Attrs(("group", 2)), x, In.Weight([4, 4, 3, 3], new float[144])));
        Assert.Contains("conv0", e.Message);
        Assert.Contains("[1, 6, 5, 5]", e.Message);
        Assert.Contains("[4, 4, 3, 3]", e.Message);

        e = Assert.Throws<GraphException>(() =>
            Run1(Device, "Conv", null, x, In.Weight([4, 6, 3, 3], new float[216]), In.Weight([3], new float[3])));
        Assert.Contains("bias", e.Message);
        Assert.Contains("[3]", e.Message);

        // Runtime (non-constant) weights are supported: Training/ConvBackwardTests compares them with constant ones.
        Assert.Throws<UnsupportedAttributeException>(() =>
            Run1(Device, "Conv", null, In.Random([1, 6, 3, 3, 3, 3], 2), In.Weight([4, 6, 2, 2, 2, 2], new float[384])));
        var u = Assert.Throws<UnsupportedAttributeException>(() =>
            Run1(Device, "Conv", Attrs((ConvStrategySelector.Attribute, "1x1")), x, In.Weight([4, 6, 3, 3], new float[216])));
        Assert.Contains("1x1 kernel", u.Message);
        Assert.Throws<UnsupportedAttributeException>(() =>
            Run1(Device, "Conv", Attrs((ConvStrategySelector.Attribute, "depthwise")), x, In.Weight([4, 6, 3, 3], new float[216])));
        u = Assert.Throws<UnsupportedAttributeException>(() => Run1(Device, "Conv", Attrs(("group", 6), ("strides", new[] { 3, 3 }),
            (ConvStrategySelector.Attribute, "depthwise")), x, In.Weight([6, 1, 3, 3], new float[54])));
        Assert.Contains("stride", u.Message);
        e = Assert.Throws<GraphException>(() =>
            Run1(Device, "Conv", Attrs((ConvStrategySelector.Attribute, "winograd")), x, In.Weight([4, 6, 3, 3], new float[216])));
        Assert.Contains("winograd", e.Message);
        Assert.Throws<GraphException>(() =>
            Run1(Device, "Conv", Attrs(("kernel_shape", new[] { 3, 2 })), x, In.Weight([4, 6, 3, 3], new float[216])));
        Assert.Throws<GraphException>(() =>
            Run1(Device, "Conv", Attrs(("auto_pad", "SAME_UPPER"), ("pads", new[] { 1, 1, 1, 1 })), x,
                In.Weight([4, 6, 3, 3], new float[216])));
        e = Assert.Throws<GraphException>(() => Run1(Device, "Conv", null, x, In.Weight([4, 6, 7, 7], new float[1176])));
        Assert.Contains("does not fit", e.Message);
    }

    internal static (float[] X, float[] W, float[]? B) Inputs(ConvCase c, int seed) => (
        Infrastructure.Reference.Random(c.N * c.C * c.H * c.W, seed),
        Infrastructure.Reference.Random(c.M * (c.C / c.Group) * c.KH * c.KW, seed + 1, -0.5f, 0.5f),
        c.Bias ? Infrastructure.Reference.Random(c.M, seed + 2) : null);

    internal static Attributes Attributes(ConvCase c)
    {
        var a = Attrs(("strides", new[] { c.SH, c.SW }), ("pads", c.P), ("dilations", new[] { c.DH, c.DW }), ("group", c.Group),
            ("kernel_shape", new[] { c.KH, c.KW }));
        if (c.Act is { } act)
        {
            a.Set(FusedActivation.KindAttribute, act);
            if (act == "Clip") { a.Set(FusedActivation.AlphaAttribute, 0f); a.Set(FusedActivation.BetaAttribute, 6f); }
        }
        return a;
    }

    /// <summary>The activations the tests fuse, written out here (not the runtime's).</summary>
    internal static double Activate(string? act, double v) => act switch
    {
        null => v,
        "Relu" => Math.Max(v, 0),
        "Clip" => Math.Min(Math.Max(v, 0), 6),
        "HardSwish" => v * Math.Min(Math.Max(v / 6 + 0.5, 0), 1),
        _ => throw new ArgumentException(act),
    };

    /// <summary>Naive direct convolution in double precision.</summary>
    internal static (float[] Y, int OH, int OW) Reference(ConvCase c, float[] x, float[] w, float[]? b)
    {
        int[] p = c.P;
        int oh = (c.H + p[0] + p[2] - ((c.KH - 1) * c.DH + 1)) / c.SH + 1, ow = (c.W + p[1] + p[3] - ((c.KW - 1) * c.DW + 1)) / c.SW + 1;
        int cg = c.C / c.Group, mg = c.M / c.Group;
        var y = new float[c.N * c.M * oh * ow];
        for (int n = 0; n < c.N; n++)
            for (int m = 0; m < c.M; m++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        double s = b?[m] ?? 0;
                        for (int ci = 0; ci < cg; ci++)
                            for (int ky = 0; ky < c.KH; ky++)
                                for (int kx = 0; kx < c.KW; kx++)
                                {
                                    int iy = oy * c.SH - p[0] + ky * c.DH, ix = ox * c.SW - p[1] + kx * c.DW;
                                    if (iy < 0 || iy >= c.H || ix < 0 || ix >= c.W) continue;
                                    int ch = m / mg * cg + ci;
                                    s += (double)x[((n * c.C + ch) * c.H + iy) * c.W + ix] * w[((m * cg + ci) * c.KH + ky) * c.KW + kx];
                                }
                        y[((n * c.M + m) * oh + oy) * ow + ox] = (float)Activate(c.Act, s);
                    }
        return (y, oh, ow);
    }
}
