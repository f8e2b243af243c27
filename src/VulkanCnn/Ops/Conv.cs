using System.Runtime.InteropServices;
using VulkanCnn.Graph;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>How a Conv node is computed; each is its own shader (<c>conv_*</c>).</summary>
public enum ConvStrategy
{
    /// <summary><c>conv_direct</c>: one output per invocation; supports everything (the reference).</summary>
    Direct,
    /// <summary><c>conv_pack</c> + <c>conv_gemm</c>: implicit GEMM with register blocking and vec4 loads.</summary>
    Gemm,
    /// <summary><c>conv_1x1</c>: 1x1 kernel, stride 1, no padding, as a plain GEMM on NCHW.</summary>
    Pointwise,
    /// <summary><c>conv_depthwise</c>: group == C (any channel multiplier), rows of outputs sharing their input span.</summary>
    Depthwise,
}

/// <summary>The one place that picks a <see cref="ConvStrategy"/>; the node attribute
/// <c>vkcnn.strategy</c> (direct, gemm, 1x1, depthwise) overrides it for tests and benchmarks.</summary>
public static class ConvStrategySelector
{
    public const string Attribute = "vkcnn.strategy";

    public static ConvStrategy Choose(ConvGeometry g, DeviceInfo device)
    {
        // conv_depthwise puts (image, channel) on the z grid axis.
        if (g.IsDepthwise && Refusal(ConvStrategy.Depthwise, g) is null && (long)g.N * g.M <= device.Limits.MaxWorkGroupCount[2])
            return ConvStrategy.Depthwise;
        if (g.IsPointwise) return ConvStrategy.Pointwise;
        return ConvStrategy.Gemm;
    }

    public static string Name(ConvStrategy s) => s switch
    {
        ConvStrategy.Direct => "direct",
        ConvStrategy.Gemm => "gemm",
        ConvStrategy.Pointwise => "1x1",
        _ => "depthwise",
    };

    /// <summary>Why <paramref name="s"/> cannot compute <paramref name="g"/>, or null when it can.</summary>
    public static string? Refusal(ConvStrategy s, ConvGeometry g) => s switch
    {
        ConvStrategy.Pointwise when g.KH != 1 || g.KW != 1 || g.SH != 1 || g.SW != 1 || g.PadTop != 0 || g.PadLeft != 0 || g.PadBottom != 0 || g.PadRight != 0 =>
            "needs a 1x1 kernel with stride 1 and no padding",
        ConvStrategy.Depthwise when g.CG != 1 || g.Group != g.C => "needs group == input channels (one input channel per group)",
        ConvStrategy.Depthwise when g.KW > 7 || g.SW > 2 || g.DW > 2 => "supports kernel width <= 7 and stride, dilation <= 2 along x",
        _ => null,
    };

    /// <summary>The strategy named by the node's <c>vkcnn.strategy</c> attribute (validated against the geometry), or null.</summary>
    public static ConvStrategy? Override(OpContext c, ConvGeometry g)
    {
        if (c.String(Attribute) is not { } name) return null;
        var all = Enum.GetValues<ConvStrategy>();
        if (!all.Any(v => Name(v) == name))
            throw c.Error($"{Attribute} '{name}' is not one of {string.Join(", ", all.Select(Name))}");
        var s = all.First(v => Name(v) == name);
        if (Refusal(s, g) is { } why) throw c.Unsupported($"{Attribute} '{name}' {why}; this conv is {g}");
        return s;
    }
}

/// <summary>
/// ONNX Conv, 2-D NCHW: kernel_shape, strides, pads, dilations, group, auto_pad, optional bias and a
/// fused activation. Weights and bias are compile-time constants, repacked per strategy at build time.
/// </summary>
public sealed class Conv : IOperator
{
    // Register blocks of conv_gemm / conv_1x1 (PX, CO) and conv_depthwise (PX): keep in step with the shaders.
    private const int GemmPixels = 8, GemmChannels = 16, DepthwisePixels = 8;
    private const uint PackTile = 8;

    public IReadOnlyList<string> OpTypes { get; } = ["Conv"];

    public OperatorTraits Traits(Node node) => OperatorTraits.AcceptsFusedActivation;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var g = ConvGeometry.ForConv(c);
        RequireConstants(c);
        ConvStrategySelector.Override(c, g);
        _ = c.Activation;
        return [g.OutputShape];
    }

    public void Build(OpBuildContext c)
    {
        var g = ConvGeometry.ForConv(c);
        var (weights, _) = RequireConstants(c);
        var bias = c.HasInput(2) ? c.Input(2) : c.Weight("zero_bias", [g.M], new float[g.M]);
        var k = new Kernels(c, g, c.Activation, bias);
        switch (ConvStrategySelector.Override(c, g) ?? ConvStrategySelector.Choose(g, c.Device.Info))
        {
            case ConvStrategy.Gemm: BuildGemm(k, weights); break;
            case ConvStrategy.Pointwise: BuildPointwise(k, weights); break;
            case ConvStrategy.Depthwise: BuildDepthwise(k); break;
            default: BuildDirect(k); break;
        }
    }

    private static (float[] Weights, float[]? Bias) RequireConstants(OpContext c) =>
        (c.RequireConstant(1, "weights W").AsFloats(), c.HasInput(2) ? c.RequireConstant(2, "bias B").AsFloats() : null);

    private static void BuildDirect(Kernels k)
    {
        var c = k.Context;
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = k.Pipeline("conv_direct", 4, local);
        c.Dispatch(pipeline, [c.Input(0), c.Input(1), k.Bias, c.Output(0)], c.Grid1D(c.OutputShape(0).ElementCount, local), k.Geometry.Params(k.Activation));
    }

    private static void BuildGemm(Kernels k, float[] weights)
    {
        var (c, g) = (k.Context, k.Geometry);
        int blocks = (g.CG + 3) / 4;
        var (packed, hp, wp, sy, sx) = k.Pack(g.Group, g.CG, blocks);
        var w = PackedGemmWeights(g, weights);
        var packedWeights = c.Weight("gemm_weights", [w.Length], w);
        long lanes = ((long)g.N * g.OH * g.OW + GemmPixels - 1) / GemmPixels;
        uint local = k.LocalSize(lanes);
        var pipeline = k.Pipeline("conv_gemm", 4, local);
        var groups = k.Groups(lanes, local, (g.MG + GemmChannels - 1) / GemmChannels, g.Group);
        var push = g.Params(k.Activation, (uint)blocks, (uint)hp, (uint)wp);
        (push.SH, push.SW) = ((uint)sy, (uint)sx);
        c.Dispatch(pipeline, [packed, packedWeights, k.Bias, c.Output(0)], groups, push);
    }

    private static void BuildPointwise(Kernels k, float[] weights)
    {
        var (c, g) = (k.Context, k.Geometry);
        int hw = g.OH * g.OW;
        var w = PackedGemmWeights(g, weights);
        var packedWeights = c.Weight("1x1_weights", [w.Length], w);
        long lanes = (long)g.N * ((hw + GemmPixels - 1) / GemmPixels);
        uint local = k.LocalSize(lanes);
        var pipeline = k.Pipeline("conv_1x1", 5, local, hw % 4 == 0 ? 1u : 0u);
        var groups = k.Groups(lanes, local, (g.MG + GemmChannels - 1) / GemmChannels, g.Group);
        c.Dispatch(pipeline, [c.Input(0), c.Input(0), packedWeights, k.Bias, c.Output(0)], groups, g.Params(k.Activation, (uint)((g.CG + 3) / 4)));
    }

    private static void BuildDepthwise(Kernels k)
    {
        var (c, g) = (k.Context, k.Geometry);
        // Lanes along x cover the column blocks of a row (rounded up to a power of two), the rest go down the rows.
        uint local = c.Device.DefaultWorkgroupSize, blocksX = (uint)((g.OW + DepthwisePixels - 1) / DepthwisePixels), lx = 1;
        while (lx < blocksX && lx < local) lx *= 2;
        uint ly = Math.Max(1, local / lx);
        var pipeline = c.Pipeline(new KernelDescription("conv_depthwise", 4, ConvParams.Size, lx, ly)
            { Activation = k.Activation.Kind, Constants = [(uint)g.KW, (uint)g.SW, (uint)g.DW] });
        var groups = k.Groups(blocksX, lx, (int)((g.OH + ly - 1) / ly), g.N * g.M);
        c.Dispatch(pipeline, [c.Input(0), c.Input(1), k.Bias, c.Output(0)], groups, g.Params(k.Activation));
    }

    /// <summary>ONNX [M, CG, KH, KW] → [group][M block of CO][CG/4 · KH · KW][4 channels][CO], zero-filled tails.</summary>
    internal static float[] PackedGemmWeights(ConvGeometry g, float[] w)
    {
        int blocks = (g.CG + 3) / 4, mBlocks = (g.MG + GemmChannels - 1) / GemmChannels, taps = g.KH * g.KW;
        var r = new float[g.Group * mBlocks * blocks * taps * 4 * GemmChannels];
        for (int m = 0; m < g.M; m++)
        {
            int grp = m / g.MG, mb = m % g.MG / GemmChannels, o = m % g.MG % GemmChannels;
            for (int ch = 0; ch < g.CG; ch++)
                for (int t = 0; t < taps; t++)
                {
                    int kIndex = ((grp * mBlocks + mb) * blocks + ch / 4) * taps + t;
                    r[(kIndex * 4 + ch % 4) * GemmChannels + o] = w[(m * g.CG + ch) * taps + t];
                }
        }
        return r;
    }

    /// <summary>What the strategy builders share: the context, geometry, activation, bias and helpers.</summary>
    private sealed record Kernels(OpBuildContext Context, ConvGeometry Geometry, FusedActivation Activation, Tensor Bias)
    {
        public ComputePipeline Pipeline(string shader, int buffers, uint local, params uint[] constants) =>
            Context.Pipeline(new KernelDescription(shader, buffers, ConvParams.Size, local) { Activation = Activation.Kind, Constants = constants });

        /// <summary>A workgroup no wider than the work (tiny layers would otherwise run mostly idle lanes).</summary>
        public uint LocalSize(long lanes)
        {
            uint local = Context.Device.DefaultWorkgroupSize, floor = Math.Max(1u, Math.Min(local, Context.Device.Info.Subgroup.Size));
            while (local > floor && local / 2 >= lanes) local /= 2;
            return local;
        }

        public (uint, uint, uint) Groups(long lanes, uint local, int y, int z)
        {
            long x = (lanes + local - 1) / local;
            var max = Context.Device.Info.Limits.MaxWorkGroupCount;
            if (x > max[0] || y > max[1] || z > max[2])
                throw Context.Unsupported($"dispatch {x}x{y}x{z} exceeds the device limit [{string.Join(", ", max)}] for {Geometry}");
            return ((uint)x, (uint)y, (uint)z);
        }

        /// <summary>Runs conv_pack into a scratch tensor: [N][groups][blocks][hp][wp] vec4 with the padding written out.
        /// Returns the packed size and the strides (sy, sx) to address it with: the real ones, or the kernel
        /// extent where the stride skips input the windows never touch.</summary>
        public (Tensor Packed, int Hp, int Wp, int Sy, int Sx) Pack(int groups, int slots, int blocks)
        {
            var g = Geometry;
            int ekh = (g.KH - 1) * g.DH + 1, ekw = (g.KW - 1) * g.DW + 1;
            int sy = Math.Min(g.SH, ekh), sx = Math.Min(g.SW, ekw);
            int hp = (g.OH - 1) * sy + ekh, wp = (g.OW - 1) * sx + ekw;
            long count = (long)g.N * groups * blocks * hp * wp;
            var packed = Context.Scratch("packed_input", [checked((int)(count * 4))]);
            var pipeline = Context.Pipeline(new KernelDescription("conv_pack", 2, Marshal.SizeOf<PackParams>(), PackTile, PackTile));
            var push = new PackParams
            {
                N = (uint)g.N, C = (uint)g.C, H = (uint)g.H, W = (uint)g.W, Groups = (uint)groups, Slots = (uint)slots,
                Blocks = (uint)blocks, Hp = (uint)hp, Wp = (uint)wp, PT = g.PadTop, PL = g.PadLeft,
                SY = (uint)sy, SX = (uint)sx, SH = (uint)g.SH, SW = (uint)g.SW,
            };
            long z = (long)g.N * groups * blocks;
            if (z > Context.Device.Info.Limits.MaxWorkGroupCount[2])
                throw Context.Unsupported($"{z} packed channel blocks exceed the device's dispatch limit for {Geometry}");
            Context.Dispatch(pipeline, [Context.Input(0), packed], ((uint)((wp + PackTile - 1) / PackTile), (uint)((hp + PackTile - 1) / PackTile), (uint)z), push);
            return (packed, hp, wp, sy, sx);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PackParams
    {
        public uint N, C, H, W, Groups, Slots, Blocks, Unused, Hp, Wp;
        public int PT, PL;
        public uint SY, SX, SH, SW;
    }
}
