using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// <c>conv_gemm_tiled</c>: the implicit GEMM for GPUs. A workgroup of 16x16 invocations computes 64 output channels x 64
/// output pixels, staging 16-deep slices of the weights and of the input's implicit im2col in shared memory (8 KiB, within
/// the 48 KiB NVIDIA's Vulkan driver exposes), each invocation a 4x4 register tile. It reads the raw NCHW input and
/// weights, so runtime weights (training) need no packing pass. Split-K (<c>gemm_tiled_splitk</c>) divides K among
/// several workgroups per tile for layers with too few tiles to fill a GPU (ResNet's last stages at batch 1), writing fp32
/// partial sums that <c>conv_gemm_splitk</c> adds in a fixed order.
/// </summary>
internal static class ConvTiled
{
    private const int TileChannels = GemmTiled.Tile, TilePixels = GemmTiled.Tile, SliceK = GemmTiled.SliceK;

    /// <summary>Workgroups a split-K layer aims for: enough to fill a large GPU (132 SMs on an H100), few enough that each split
    /// keeps several K slices.</summary>
    private const int TargetWorkgroups = 256, MaxSplits = 16;

    /// <summary>Output tiles (workgroups without split-K).</summary>
    public static long Tiles(ConvGeometry g) =>
        ((long)g.N * g.OH * g.OW + TilePixels - 1) / TilePixels * ((g.MG + TileChannels - 1) / TileChannels) * g.Group;

    /// <summary>How many ways split-K divides K: enough to reach <see cref="TargetWorkgroups"/>, at least 2, at most one per K
    /// slice (and <see cref="MaxSplits"/>).</summary>
    public static int Splits(ConvGeometry g)
    {
        int slices = (g.CG * g.KH * g.KW + SliceK - 1) / SliceK;
        return (int)Math.Clamp((TargetWorkgroups + Tiles(g) - 1) / Tiles(g), 2, Math.Max(2, Math.Min(MaxSplits, slices)));
    }

    /// <summary>Why the device cannot run it for <paramref name="g"/> (grid, workgroup size, shared memory, split-K's partial
    /// sums), or null.</summary>
    public static string? Refusal(ConvGeometry g, DeviceInfo device, bool splitK)
    {
        long pixelTiles = ((long)g.N * g.OH * g.OW + TilePixels - 1) / TilePixels, channelTiles = (g.MG + TileChannels - 1) / TileChannels;
        long z = (long)g.Group * (splitK ? Splits(g) : 1), partialBytes = splitK ? Splits(g) * g.OutputShape.ElementCount * 4 : 0;
        ulong limit = device.Limits.MaxStorageBufferRange;
        return GemmTiled.TileRefusal(device, pixelTiles, channelTiles, z)
            ?? ((ulong)partialBytes > limit
                ? $"needs {partialBytes / 1048576.0:0.0} MiB of partial sums in one buffer; the device binds at most " +
                    $"{limit / 1048576.0:0.0} MiB"
                : null);
    }

    /// <summary>Records y = act(conv(x, w) + bias [+ residual]), with split-K when asked.</summary>
    public static void Build(KernelSink s, ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y, FusedActivation act,
        Tensor? residual, bool splitK)
    {
        int splits = splitK ? Splits(g) : 1;
        uint hasResidual = residual is null ? 0u : 1u;
        var pipeline = s.Pipeline(new PipelineKey("conv_gemm_tiled", 6, ConvParams.Size, 16, 16)
        { Activation = (uint)act.Kind, Constants = [hasResidual, (uint)splits] });
        long pixelTiles = ((long)g.N * g.OH * g.OW + TilePixels - 1) / TilePixels;
        var groups = s.Groups(pixelTiles, (g.MG + TileChannels - 1) / TileChannels, (long)g.Group * splits, $"the tiled GEMM of {g}");
        if (splits == 1)
        {
            s.Dispatch(pipeline, [x, w, bias, y, residual ?? bias, s.UnusedFloatBinding(y, "no_partial")], groups, g.Params(act));
            return;
        }
        // Each split takes an equal run of whole K slices; the partial sums stay fp32 whatever the storage.
        int slices = (g.CG * g.KH * g.KW + SliceK - 1) / SliceK, perSplit = (slices + splits - 1) / splits;
        var partial = s.Scratch("splitk_partial", [checked((int)(splits * y.ElementCount))], DataType.Float32);
        s.Dispatch(pipeline, [x, w, bias, y, residual ?? bias, partial], groups, g.Params(act, (uint)perSplit));
        uint local = s.Device.DefaultWorkgroupSize;
        var reduce = s.Pipeline(new PipelineKey("conv_gemm_splitk", 4, ConvParams.Size, local)
        { Activation = (uint)act.Kind, Constants = [hasResidual] });
        s.Dispatch(reduce, [partial, bias, y, residual ?? bias], s.Grid1D(y.ElementCount, local), g.Params(act, (uint)splits));
    }

    /// <summary>dX += the transposed conv of dz (NCHW) with w, tiled (conv_backward_input_tiled).</summary>
    public static void InputGradient(KernelSink s, ConvGeometry g, Tensor dz, Tensor w, Tensor dx)
    {
        var pipeline = s.Pipeline(new PipelineKey("conv_backward_input_tiled", 3, ConvParams.Size, 16, 16));
        long pixelTiles = ((long)g.N * g.H * g.W + TilePixels - 1) / TilePixels;
        s.Dispatch(pipeline, [dz, w, dx], s.Groups(pixelTiles, (g.CG + TileChannels - 1) / TileChannels, g.Group,
            $"the tiled input gradient of {g}"), g.Params(FusedActivation.None));
    }

    /// <summary>dW += the correlation of x with dz (NCHW) over every output pixel, tiled, K split to fill the device
    /// (conv_backward_weight_tiled, then conv_backward_reduce over the splits).</summary>
    public static void WeightGradient(KernelSink s, ConvGeometry g, Tensor x, Tensor dz, Tensor dw)
    {
        int taps = g.CG * g.KH * g.KW;
        long tiles = (long)(taps + TilePixels - 1) / TilePixels * ((g.MG + TileChannels - 1) / TileChannels) * g.Group;
        int slices = (g.N * g.OH * g.OW + SliceK - 1) / SliceK;
        // K (every output pixel) is deep and the output small: split it until the device is full, each split 4+ slices.
        int splits = (int)Math.Clamp((TargetWorkgroups + tiles - 1) / tiles, 1, Math.Max(1, Math.Min(4 * MaxSplits, slices / 4)));
        int perSplit = (slices + splits - 1) / splits;
        splits = (slices + perSplit - 1) / perSplit;
        var pipeline = s.Pipeline(new PipelineKey("conv_backward_weight_tiled", 3, ConvParams.Size, 16, 16) { Constants = [(uint)splits] });
        var groups = s.Groups((taps + TilePixels - 1) / TilePixels, (g.MG + TileChannels - 1) / TileChannels, (long)g.Group * splits,
            $"the tiled weight gradient of {g}");
        if (splits == 1)
        {
            s.Dispatch(pipeline, [x, dz, dw], groups, g.Params(FusedActivation.None));
            return;
        }
        long size = dw.ElementCount;
        var partial = s.Scratch("tiled_weight_grad_partial", [checked((int)(splits * size))]);
        s.Dispatch(pipeline, [x, dz, partial], groups, g.Params(FusedActivation.None, (uint)perSplit));
        uint local = s.Device.DefaultWorkgroupSize;
        var reduce = s.Pipeline(new PipelineKey("conv_backward_reduce", 2, 8, local));
        s.Dispatch(reduce, [partial, dw], s.Grid1D(size, local), new[] { (uint)size, (uint)splits });
    }
}
