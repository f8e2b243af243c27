using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// Winograd F(m x m, 3x3) for 3x3, stride-1, undilated, ungrouped convs (Lavin &amp; Gray 2016): constant weights
/// transformed once at build time (U = G g Gᵀ, in double), weights that change every run (training) by
/// winograd_weights on the GPU before each run's conv; then per run winograd_input (V = Bᵀ d B per
/// tile), winograd_gemm (one GEMM per transformed position) and winograd_output (Aᵀ M A + bias + activation).
/// F(2,3) does 16 multiplies per 4 outputs (2.25x fewer than direct), F(4,3) 36 per 16 (4x fewer) at a larger
/// rounding error: on ResNet-18's layers 0.3–0.8e-6 and 4–7e-6 of max(1, max|y|) against the exact result (gemm:
/// 0.8–2.8e-6); the tests hold them to 1e-4 and 5e-4 (ConvWinogradTests).
/// </summary>
internal static class ConvWinograd
{
    // winograd_gemm's register block (PX tiles x CO channels): must match the shader.
    private const int GemmTiles = 8, GemmChannels = ConvKernels.GemmChannels; // its U comes from the conv GEMM packer

    /// <summary>Why Winograd cannot compute <paramref name="g"/>, or null.</summary>
    public static string? Refusal(ConvGeometry g) =>
        g.KH != 3 || g.KW != 3 || g.SH != 1 || g.SW != 1 || g.DH != 1 || g.DW != 1 || g.Group != 1
            ? "needs a 3x3 kernel, stride 1, no dilation and one group" : null;

    /// <summary>Bytes of the largest buffer Winograd binds: the transformed input or the GEMM products ((m+2)²/m² times the
    /// input or output) or the transformed weights ((m+2)²/9 times the kernel's), so a layer gemm can bind may be too large
    /// for Winograd.</summary>
    public static long LargestBufferBytes(ConvGeometry g, int tileM)
    {
        long t = tileM + 2, tiles = (long)g.N * ((g.OW + tileM - 1) / tileM) * ((g.OH + tileM - 1) / tileM);
        long data = t * t * tiles * 4 * Math.Max((g.C + 3) / 4, (g.M + 3) / 4);
        return Math.Max(data, t * t * (long)PackedSize(g)) * sizeof(float);
    }

    /// <summary>Records the three kernels of F(<paramref name="tileM"/>, 3): y = act(conv(x, w) + bias [+ residual]).</summary>
    public static void Build(KernelSink s, ConvGeometry g, int tileM, HostTensor? constant, Tensor weights, Tensor x, Tensor bias,
        Tensor y, FusedActivation act, Tensor? residual = null)
    {
        int t = tileM + 2, positions = t * t, blocks = (g.C + 3) / 4, m4 = (g.M + 3) / 4;
        int tilesX = (g.OW + tileM - 1) / tileM, tilesY = (g.OH + tileM - 1) / tileM;
        long tiles = (long)g.N * tilesX * tilesY;
        // U = G g Gᵀ as [position][M][C], packed for the GEMM by the conv GEMM's own weight packer with the positions as
        // groups of 1x1 convs ([position][M block][C/4][4][16]): on the CPU for constant weights, else on the GPU each run.
        var byPosition = Positions(g, positions);
        var packedU = constant?.Floats is { } w
            ? ConvKernels.GemmWeights(s, byPosition, HostTensor.FromFloats([positions * g.M, g.C, 1, 1], TransformedWeights(g, tileM, w)),
                weights, $"winograd{tileM}_weights")
            : ConvKernels.GemmWeights(s, byPosition, null, TransformOnDevice(s, g, tileM, weights), $"winograd{tileM}_weights");
        var v = s.Scratch($"winograd{tileM}_input", [checked((int)(positions * blocks * 4 * tiles))]);
        var mo = s.Scratch($"winograd{tileM}_products", [checked((int)(positions * m4 * 4 * tiles))]);
        var push = g.Params(act, (uint)blocks, (uint)tilesX, (uint)tilesY, (uint)tiles);
        uint[] tile = [(uint)tileM];

        long perImage = (long)tilesX * tilesY;
        uint local = ConvKernels.LocalSize(s, perImage);
        var input = s.Pipeline(new PipelineKey("winograd_input", 2, ConvParams.Size, local) { Constants = tile });
        s.Dispatch(input, [x, v], s.Groups((perImage + local - 1) / local, blocks, g.N, $"the Winograd input of {g}"), push);

        long tileLanes = (tiles + GemmTiles - 1) / GemmTiles, mBlocks = (g.M + GemmChannels - 1) / GemmChannels;
        long lanes = tileLanes * mBlocks;
        uint gemmLocal = ConvKernels.LocalSize(s, lanes);
        var gemm = s.Pipeline(new PipelineKey("winograd_gemm", 3, ConvParams.Size, gemmLocal) { Constants = tile });
        var gemmPush = push;
        (gemmPush.D, gemmPush.F) = ((uint)tileLanes, (uint)mBlocks);
        s.Dispatch(gemm, [v, packedU, mo], s.Groups((lanes + gemmLocal - 1) / gemmLocal, 1, positions, g.ToString()), gemmPush);

        var output = s.Pipeline(new PipelineKey("winograd_output", 4, ConvParams.Size, local)
        { Activation = (uint)act.Kind, Constants = [(uint)tileM, residual is null ? 0u : 1u] });
        s.Dispatch(output, [mo, bias, y, residual ?? bias],
            s.Groups((perImage + local - 1) / local, m4, g.N, $"the Winograd output of {g}"), push);
    }

    /// <summary>Floats of one position's packed weights: M rounded up to a block of CO, C to a block of 4.</summary>
    private static int PackedSize(ConvGeometry g) => (g.M + GemmChannels - 1) / GemmChannels * GemmChannels * ((g.C + 3) / 4) * 4;

    /// <summary>The transformed weights seen as a grouped 1x1 conv, one group per position, for the GEMM weight packer.</summary>
    private static ConvGeometry Positions(ConvGeometry g, int positions) =>
        new(1, positions * g.C, 1, 1, positions * g.M, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, positions);

    /// <summary>winograd_weights into a scratch tensor [position][M][C], every run (the weights are a runtime tensor).</summary>
    private static Tensor TransformOnDevice(KernelSink s, ConvGeometry g, int tileM, Tensor weights)
    {
        int t = tileM + 2;
        var transformed = s.Scratch($"winograd{tileM}_transformed", [checked(t * t * g.M * g.C)]);
        uint local = s.Device.DefaultWorkgroupSize;
        var pipeline = s.Pipeline(new PipelineKey("winograd_weights", 2, ConvParams.Size, local) { Constants = [(uint)tileM] });
        s.Dispatch(pipeline, [weights, transformed], s.Grid1D((long)g.M * g.C, local), g.Params(FusedActivation.None));
        return transformed;
    }

    /// <summary>G for F(m,3): T x 3.</summary>
    private static double[,] G(int tileM) => tileM == 2
        ? new double[,] { { 1, 0, 0 }, { 0.5, 0.5, 0.5 }, { 0.5, -0.5, 0.5 }, { 0, 0, 1 } }
        : new double[,]
        {
            { 1.0 / 4, 0, 0 }, { -1.0 / 6, -1.0 / 6, -1.0 / 6 }, { -1.0 / 6, 1.0 / 6, -1.0 / 6 },
            { 1.0 / 24, 1.0 / 12, 1.0 / 6 }, { 1.0 / 24, -1.0 / 12, 1.0 / 6 }, { 0, 0, 1 },
        };

    /// <summary>U = G g Gᵀ for every (m, c), as [position][M][C].</summary>
    public static float[] TransformedWeights(ConvGeometry g, int tileM, float[] w)
    {
        var gm = G(tileM);
        int t = tileM + 2;
        var r = new float[t * t * g.M * g.C];
        // Output channels in parallel (disjoint slices of r): the transform is the bulk of a plan's CPU work at build time.
        Parallel.For(0, g.M, m =>
        {
            var tmp = new double[t, 3];
            for (int c = 0; c < g.C; c++)
            {
                int k0 = (m * g.C + c) * 9;
                for (int i = 0; i < t; i++)
                    for (int j = 0; j < 3; j++)
                        tmp[i, j] = gm[i, 0] * w[k0 + j] + gm[i, 1] * w[k0 + 3 + j] + gm[i, 2] * w[k0 + 6 + j];
                for (int i = 0; i < t; i++)
                    for (int j = 0; j < t; j++)
                    {
                        double u = tmp[i, 0] * gm[j, 0] + tmp[i, 1] * gm[j, 1] + tmp[i, 2] * gm[j, 2];
                        r[((i * t + j) * g.M + m) * g.C + c] = (float)u;
                    }
            }
        });
        return r;
    }
}
