using System.Runtime.InteropServices;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>The simple strategy of MatMul, C[M,N] = A[M,K] · B[K,N] on row-major matrices (shader
/// <c>matmul_naive</c>, one output per invocation): the baseline <see cref="Gemm"/>'s blocked kernel
/// is tested and benchmarked against. Graphs use <see cref="Gemm"/>.</summary>
internal static class MatMulNaive
{
    private const uint Tile = 8;

    public static BoundKernel Bind(Tensor a, Tensor b, Tensor output)
    {
        if (a.Shape.Rank != 2 || b.Shape.Rank != 2 || output.Shape.Rank != 2)
            throw new ArgumentException($"MatMul takes 2-D tensors; got '{a.Name}' {a.Shape}, '{b.Name}' {b.Shape}, output " +
                $"'{output.Name}' {output.Shape}.");
        int m = a.Shape[0], k = a.Shape[1], n = b.Shape[1];
        if (b.Shape[0] != k)
            throw new ArgumentException($"MatMul inner dimensions differ: '{a.Name}' {a.Shape} · '{b.Name}' {b.Shape}.", nameof(b));
        if (output.Shape != new TensorShape(m, n))
            throw new ArgumentException($"MatMul output '{output.Name}' has shape {output.Shape}; expected [{m}, {n}].", nameof(output));
        var device = a.Device;
        var pipeline = device.GetPipeline(new PipelineKey("matmul_naive", 3, 12, Tile, Tile));
        var groups = ((uint)((n + Tile - 1) / Tile), (uint)((m + Tile - 1) / Tile), 1u);
        ReadOnlySpan<uint> push = [(uint)m, (uint)n, (uint)k];
        return new BoundKernel(pipeline, [a.Buffer, b.Buffer, output.Buffer], groups, MemoryMarshal.AsBytes(push), "MatMul");
    }
}
