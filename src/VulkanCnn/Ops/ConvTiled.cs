using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// <c>conv_gemm_tiled</c>: the implicit GEMM for GPUs. A workgroup of 16x16 invocations computes 64 output channels x 64
/// output pixels, staging 16-deep slices of the weights and of the input's implicit im2col in shared memory (8 KiB, within
/// the 48 KiB NVIDIA's Vulkan driver exposes), each invocation a 4x4 register tile. It reads the raw NCHW input and
/// weights, so runtime weights (training) need no packing pass.
/// </summary>
internal static class ConvTiled
{
    private const int TileChannels = 64, TilePixels = 64, Invocations = 256, SharedBytes = 2 * 16 * 64 * sizeof(float);

    /// <summary>Why the device cannot run it for <paramref name="g"/> (grid, workgroup size, shared memory), or null.</summary>
    public static string? Refusal(ConvGeometry g, DeviceInfo device)
    {
        var l = device.Limits;
        long pixelTiles = ((long)g.N * g.OH * g.OW + TilePixels - 1) / TilePixels, channelTiles = (g.MG + TileChannels - 1) / TileChannels;
        return l.MaxWorkGroupInvocations < Invocations ? $"needs {Invocations} invocations per workgroup; the device allows " +
                $"{l.MaxWorkGroupInvocations}"
            : l.MaxSharedMemoryBytes < SharedBytes ? $"needs {SharedBytes} bytes of shared memory; the device has {l.MaxSharedMemoryBytes}"
            : pixelTiles > l.MaxWorkGroupCount[0] || channelTiles > l.MaxWorkGroupCount[1] || g.Group > l.MaxWorkGroupCount[2]
                ? $"needs a {pixelTiles}x{channelTiles}x{g.Group} grid of tiles, beyond the device's workgroup counts"
            : null;
    }

    /// <summary>Records y = act(conv(x, w) + bias [+ residual]).</summary>
    public static void Build(KernelSink s, ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y, FusedActivation act,
        Tensor? residual)
    {
        var pipeline = s.Pipeline(new PipelineKey("conv_gemm_tiled", 5, ConvParams.Size, 16, 16)
        { Activation = (uint)act.Kind, Constants = [residual is null ? 0u : 1u] });
        long pixelTiles = ((long)g.N * g.OH * g.OW + TilePixels - 1) / TilePixels;
        s.Dispatch(pipeline, [x, w, bias, y, residual ?? bias],
            s.Groups(pixelTiles, (g.MG + TileChannels - 1) / TileChannels, g.Group, $"the tiled GEMM of {g}"), g.Params(act));
    }
}
