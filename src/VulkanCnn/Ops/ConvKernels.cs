using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// The conv kernels <see cref="Conv"/> and <see cref="ConvTranspose"/> record, forward and
/// backward: input and weight packing, the implicit GEMM, and the gradient kernels
/// (<c>conv_backward_*</c>). Register blocks here must stay in step with the shaders.
/// </summary>
internal static class ConvKernels
{
    // conv_gemm / conv_1x1 (PX, CO), conv_backward_input (PX); conv_pack's tile.
    public const int GemmPixels = 8, GemmChannels = 16, BackwardPixels = 8;
    private const uint PackTile = 8;

    /// <summary>A workgroup no wider than the work (tiny layers would otherwise run mostly idle lanes).</summary>
    public static uint LocalSize(KernelSink s, long lanes)
    {
        uint local = s.Device.DefaultWorkgroupSize, floor = Math.Max(1u, Math.Min(local, s.Device.Info.Subgroup.Size));
        while (local > floor && local / 2 >= lanes) local /= 2;
        return local;
    }

    private static ComputePipeline Pipeline(KernelSink s, string shader, int buffers, uint local, ActivationKind act = ActivationKind.None,
        params uint[] constants) =>
        s.Pipeline(new PipelineKey(shader, buffers, ConvParams.Size, local) { Activation = (uint)act, Constants = constants });

    /// <summary>ONNX [M, CG, KH, KW] → [group][M block of CO][CG/4 · KH · KW][4 channels][CO], zero-filled tails
    /// (the CPU twin of conv_pack_weights LAYOUT 0, for constant weights).</summary>
    public static float[] PackedGemmWeights(ConvGeometry g, float[] w)
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

    /// <summary>Weights in conv_gemm / conv_1x1 layout: repacked on the CPU once when constant, else by a GPU kernel every run.</summary>
    public static Tensor GemmWeights(KernelSink s, ConvGeometry g, HostTensor? constant, Tensor weights, string key)
    {
        if (constant is { Floats: { } w })
        {
            var packed = PackedGemmWeights(g, w);
            return s.Weight(key, [packed.Length], packed);
        }
        int blocks = (g.CG + 3) / 4, mBlocks = (g.MG + GemmChannels - 1) / GemmChannels;
        return PackWeights(s, g, weights, key, 0, 4, g.Group * mBlocks * blocks * g.KH * g.KW * 4 * GemmChannels, blocks, mBlocks);
    }

    private static Tensor PackWeights(KernelSink s, ConvGeometry g, Tensor weights, string key, uint layout, uint co4, long count, int a,
        int b)
    {
        var packed = s.Scratch(key, [checked((int)count)]);
        uint local = s.Device.DefaultWorkgroupSize;
        s.Dispatch(Pipeline(s, "conv_pack_weights", 2, local, ActivationKind.None, layout, co4), [weights, packed], s.Grid1D(count, local),
            g.Params(FusedActivation.None, (uint)a, (uint)b, e: (uint)count));
        return packed;
    }

    /// <summary>Runs conv_pack into a scratch tensor: [N][groups][blocks][hp][wp] vec4 with the padding written out.
    /// Returns the packed size and the strides (sy, sx) to address it with: the real ones, or the kernel
    /// extent where the stride skips input the windows never touch.</summary>
    public static (Tensor Packed, int Hp, int Wp, int Sy, int Sx) PackInput(KernelSink s, ConvGeometry g, Tensor x, string key)
    {
        int blocks = (g.CG + 3) / 4;
        int ekh = (g.KH - 1) * g.DH + 1, ekw = (g.KW - 1) * g.DW + 1;
        int sy = Math.Min(g.SH, ekh), sx = Math.Min(g.SW, ekw);
        int hp = (g.OH - 1) * sy + ekh, wp = (g.OW - 1) * sx + ekw;
        long count = (long)g.N * g.Group * blocks * hp * wp;
        var packed = s.Scratch(key, [checked((int)(count * 4))]);
        var pipeline = s.Pipeline(new PipelineKey("conv_pack", 2, Marshal.SizeOf<PackParams>(), PackTile, PackTile));
        var push = new PackParams
        {
            N = (uint)g.N,
            C = (uint)g.C,
            H = (uint)g.H,
            W = (uint)g.W,
            Groups = (uint)g.Group,
            Slots = (uint)g.CG,
            Blocks = (uint)blocks,
            Hp = (uint)hp,
            Wp = (uint)wp,
            PT = g.PadTop,
            PL = g.PadLeft,
            SY = (uint)sy,
            SX = (uint)sx,
            SH = (uint)g.SH,
            SW = (uint)g.SW,
        };
        s.Dispatch(pipeline, [x, packed],
            s.Groups((wp + PackTile - 1) / PackTile, (hp + PackTile - 1) / PackTile, (long)g.N * g.Group * blocks, $"conv_pack of {g}"),
                push);
        return (packed, hp, wp, sy, sx);
    }

    /// <summary>conv_pack + conv_gemm: y = act(conv(x) + bias [+ residual]), or y += conv(x) when <paramref name="accumulate"/>.</summary>
    public static void Gemm(KernelSink s, ConvGeometry g, Tensor x, Tensor packedWeights, Tensor bias, Tensor y, FusedActivation act,
        bool accumulate, string key, Tensor? residual = null)
    {
        int blocks = (g.CG + 3) / 4;
        var (packed, hp, wp, sy, sx) = PackInput(s, g, x, key);
        long lanes = ((long)g.N * g.OH * g.OW + GemmPixels - 1) / GemmPixels;
        uint local = LocalSize(s, lanes);
        var pipeline = Pipeline(s, "conv_gemm", 5, local, act.Kind, accumulate ? 1u : 0u, residual is null ? 0u : 1u);
        var groups = s.Groups((lanes + local - 1) / local, (g.MG + GemmChannels - 1) / GemmChannels, g.Group, g.ToString());
        var push = g.Params(act, (uint)blocks, (uint)hp, (uint)wp);
        (push.SH, push.SW) = ((uint)sy, (uint)sx);
        s.Dispatch(pipeline, [packed, packedWeights, bias, y, residual ?? bias], groups, push);
    }

    /// <summary>conv_1x1 (1x1 kernel, stride 1, no padding) straight from NCHW; y = act(conv(x) + bias [+ residual]).</summary>
    public static void Pointwise(KernelSink s, ConvGeometry g, Tensor x, Tensor packedWeights, Tensor bias, Tensor y, FusedActivation act,
        Tensor? residual = null)
    {
        int hw = g.OH * g.OW;
        long lanes = (long)g.N * ((hw + GemmPixels - 1) / GemmPixels);
        uint local = LocalSize(s, lanes);
        var pipeline = Pipeline(s, "conv_1x1", 6, local, act.Kind, hw % 4 == 0 ? 1u : 0u, residual is null ? 0u : 1u);
        var groups = s.Groups((lanes + local - 1) / local, (g.MG + GemmChannels - 1) / GemmChannels, g.Group, g.ToString());
        s.Dispatch(pipeline, [x, x, packedWeights, bias, y, residual ?? bias], groups, g.Params(act, (uint)((g.CG + 3) / 4)));
    }

    // ---- backward ----

    /// <summary>dL/dz = dY · act'(y) (conv_backward_dy): NCHW, or transposed to [group][MG4][N·OH·OW] vec4.
    /// Without activation an NCHW result is dY itself.</summary>
    public static Tensor Dz(KernelSink s, ConvGeometry g, Tensor dy, Tensor y, FusedActivation act, bool transposed, string key)
    {
        if (!transposed && act.Kind == ActivationKind.None) return dy;
        long mg4 = (g.MG + 3) / 4, count = transposed ? g.Group * mg4 * g.N * g.OH * g.OW : g.OutputShape.ElementCount;
        var dz = s.Scratch(key, [checked((int)(transposed ? count * 4 : count))]);
        int hw = g.OH * g.OW;
        uint local = transposed ? LocalSize(s, hw) : s.Device.DefaultWorkgroupSize;
        var groups = transposed ? s.Groups((hw + local - 1) / local, g.N, g.Group * mg4, $"the output gradient of {g}")
            : s.Grid1D(count, local);
        s.Dispatch(Pipeline(s, "conv_backward_dy", 3, local, act.Kind, transposed ? 1u : 0u), [dy, y, dz], groups,
            g.Params(act, (uint)mg4, e: (uint)count));
        return dz;
    }

    /// <summary>The start of a Conv-family backward: the fused activation checked, the gradients asked for
    /// (dX, dW, dB; null where not) and dz from <see cref="Dz"/>. Null when there is nothing to compute.</summary>
    public static (KernelSink Sink, Tensor Dz, Tensor? Dx, Tensor? Dw, Tensor? Db)? BeginBackward(BackwardContext c, ConvGeometry g,
        bool transposedDz)
    {
        var act = c.Activation;
        BackwardActivation.Check(c, act);
        if (c.OutputGradient(0) is not { } dy) return null;
        var (dx, dw, db) = (c.InputGradient(0), c.InputGradient(1), c.HasInput(2) ? c.InputGradient(2) : null);
        if (dx is null && dw is null && db is null) return null;
        var s = KernelSink.Of(c);
        return (s, Dz(s, g, dy, c.Output(0), act, transposedDz, "dz"), dx, dw, db);
    }

    /// <summary>dX += transposed conv of dz (transposed layout) with w (conv_pack_weights LAYOUT 1 + conv_backward_input).</summary>
    public static void InputGradient(KernelSink s, ConvGeometry g, Tensor dz, Tensor w, Tensor dx)
    {
        uint co4 = g.CG > 4 ? 4u : 1u;
        int co = 4 * (int)co4, cBlocks = (g.CG + co - 1) / co, mg4 = (g.MG + 3) / 4;
        var packed = PackWeights(s, g, w, "input_grad_weights", 1, co4, (long)g.Group * cBlocks * g.KH * g.KW * mg4 * 4 * co, cBlocks, mg4);
        int perResidue = (g.W + g.SW - 1) / g.SW, columnBlocks = (perResidue + BackwardPixels - 1) / BackwardPixels,
            rows = (g.H + g.SH - 1) / g.SH;
        long lanes = (long)g.N * rows * columnBlocks;
        uint local = LocalSize(s, lanes);
        var groups = s.Groups((lanes + local - 1) / local, cBlocks, (long)g.Group * g.SH * g.SW, $"the input gradient of {g}");
        s.Dispatch(Pipeline(s, "conv_backward_input", 3, local, ActivationKind.None, co4), [dz, packed, dx], groups,
            g.Params(FusedActivation.None, (uint)mg4, (uint)columnBlocks, (uint)cBlocks, (uint)rows));
    }

    /// <summary>dW += correlation of x with dz (transposed layout): conv_pack + conv_backward_weight over row chunks,
    /// then conv_backward_reduce when there is more than one chunk.</summary>
    public static void WeightGradient(KernelSink s, ConvGeometry g, Tensor x, Tensor dz, Tensor dw)
    {
        var (packed, hp, wp, sy, sx) = PackInput(s, g, x, "weight_grad_input");
        int taps = g.KH * g.KW, blocks = (g.CG + 3) / 4, mg4 = (g.MG + 3) / 4;
        // Taps per invocation: the block size in 1..4 that wastes the fewest slots (the largest on a tie).
        uint tb = (uint)Enumerable.Range(1, Math.Min(4, taps)).OrderBy(b => (taps + b - 1) / b * b).ThenByDescending(b => b).First();
        uint mh = (uint)Math.Min(mg4, 4);
        long items = (mg4 + mh - 1) / mh * blocks * ((taps + tb - 1) / tb);
        // Enough chunks of output rows to fill a GPU, each long enough to amortise its partial sums.
        int rows = g.N * g.OH, minRows = Math.Max(1, 256 / g.OW);
        int chunks = (int)Math.Clamp(8192 / (items * g.Group), 1, Math.Max(1, rows / minRows));
        int perChunk = (rows + chunks - 1) / chunks;
        chunks = (rows + perChunk - 1) / perChunk;
        uint local = LocalSize(s, items);
        var pipeline = Pipeline(s, "conv_backward_weight", 3, local, ActivationKind.None, tb, mh, chunks == 1 ? 1u : 0u);
        var groups = s.Groups((items + local - 1) / local, chunks, g.Group, $"the weight gradient of {g}");
        var push = g.Params(FusedActivation.None, (uint)blocks, (uint)hp, (uint)wp, (uint)mg4, (uint)perChunk);
        (push.SH, push.SW) = ((uint)sy, (uint)sx);
        long size = dw.Shape.ElementCount;
        if (chunks == 1)
        {
            s.Dispatch(pipeline, [packed, dz, dw], groups, push);
            return;
        }
        var partial = s.Scratch("weight_grad_partial", [checked((int)(chunks * size))]);
        s.Dispatch(pipeline, [packed, dz, partial], groups, push);
        uint reduceLocal = s.Device.DefaultWorkgroupSize;
        var reduce = s.Pipeline(new PipelineKey("conv_backward_reduce", 2, 8, reduceLocal));
        s.Dispatch(reduce, [partial, dw], s.Grid1D(size, reduceLocal), new[] { (uint)size, (uint)chunks });
    }

    /// <summary>dB += dz summed over images and pixels (conv_backward_bias), dz NCHW or transposed.</summary>
    public static void BiasGradient(KernelSink s, ConvGeometry g, Tensor dz, bool transposed, Tensor db)
    {
        uint local = s.Device.DefaultWorkgroupSize;
        var (x, y) = s.Device.Grid1D(transposed ? (long)g.Group * ((g.MG + 3) / 4) : g.M, 1);
        s.Dispatch(Pipeline(s, "conv_backward_bias", 2, local, ActivationKind.None, transposed ? 1u : 0u), [dz, db], (x, y, 1u),
            g.Params(FusedActivation.None, (uint)((g.MG + 3) / 4)));
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PackParams
    {
        public uint N, C, H, W, Groups, Slots, Blocks, Unused, Hp, Wp;
        public int PT, PL;
        public uint SY, SX, SH, SW;
    }
}
