using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// Gemm/MatMul's <c>tiled</c> variant for GPUs (<c>gemm_tiled</c>): the shared-memory twin of <c>gemm_blocked</c>, same
/// operands (strides, batch offsets, broadcast C) and push constants, 64x64 blocks of Y per 16x16 workgroup with 16-deep
/// slices of A and B staged in 8 KiB of shared memory. Its backward products are tiled too.
/// </summary>
internal static class GemmTiled
{
    public const string Name = "tiled";

    /// <summary>The tile of every *_tiled kernel (shaders/common/tiled_gemm.glsl): Tile x Tile outputs per workgroup of
    /// Invocations, SliceK-deep slices of both operands in shared memory.</summary>
    internal const int Tile = 64, SliceK = 16, Invocations = 256, SharedBytes = 2 * SliceK * Tile * sizeof(float);

    /// <summary>Why the device cannot run a tiled kernel over an <paramref name="x"/>x<paramref name="y"/>x<paramref name="z"/>
    /// grid of tiles (workgroup size, shared memory, grid), or null.</summary>
    internal static string? TileRefusal(DeviceInfo device, long x, long y, long z)
    {
        var l = device.Limits;
        return l.MaxWorkGroupInvocations < Invocations ? $"needs {Invocations} invocations per workgroup; the device allows " +
                $"{l.MaxWorkGroupInvocations}"
            : l.MaxSharedMemoryBytes < SharedBytes ? $"needs {SharedBytes} bytes of shared memory; the device has {l.MaxSharedMemoryBytes}"
            : x > l.MaxWorkGroupCount[0] || y > l.MaxWorkGroupCount[1] || z > l.MaxWorkGroupCount[2]
                ? $"needs a {x}x{y}x{z} grid of tiles, beyond the device's workgroup counts"
            : null;
    }

    /// <summary>Why the device cannot run an <paramref name="m"/>x<paramref name="n"/> product over <paramref name="batch"/>
    /// batches tiled, or null.</summary>
    public static string? Refusal(int m, int n, int batch, DeviceInfo device) =>
        TileRefusal(device, (n + Tile - 1) / Tile, (m + Tile - 1) / Tile, batch);

    /// <summary>Records one gemm_tiled dispatch over the bindings and push constants gemm_blocked takes.</summary>
    public static void Dispatch(KernelSink s, int m, int n, int batch, IReadOnlyList<Tensor> bindings, uint[] push, FusedActivation act,
        bool hasC, bool accumulate)
    {
        var pipeline = s.Pipeline(new PipelineKey("gemm_tiled", 5, 52, 16, 16)
        { Activation = (uint)act.Kind, Constants = [hasC ? 1u : 0u, accumulate ? 1u : 0u] });
        s.Dispatch(pipeline, bindings, s.Groups((n + Tile - 1) / Tile, (m + Tile - 1) / Tile, batch, $"a tiled {m}x{n} product"), push);
    }
}
