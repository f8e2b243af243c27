using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>Transpose against a naive CPU permutation, ranks 1 to 6.</summary>
public sealed class TransposeTests(GpuFixture gpu) : GpuTest(gpu)
{
    internal static float[] Reference(float[] x, int[] dims, int[] perm)
    {
        int[] outDims = perm.Select(a => dims[a]).ToArray();
        return NdIndex.Build(outDims, o =>
        {
            var src = new int[dims.Length];
            for (int d = 0; d < perm.Length; d++) src[perm[d]] = o[d];
            return x[NdIndex.Flat(src, dims)];
        });
    }

    [Theory]
    [InlineData(new[] { 7 }, new[] { 0 })]
    [InlineData(new[] { 5, 13 }, new[] { 1, 0 })]
    [InlineData(new[] { 2, 3, 5, 7 }, new[] { 0, 2, 3, 1 })]   // NCHW -> NHWC
    [InlineData(new[] { 2, 7, 5, 3 }, new[] { 0, 3, 1, 2 })]   // NHWC -> NCHW
    [InlineData(new[] { 2, 3, 1, 1 }, new[] { 0, 2, 3, 1 })]   // 1x1 spatial
    [InlineData(new[] { 2, 2, 3, 4, 5 }, new[] { 0, 2, 1, 3, 4 })] // channel shuffle
    [InlineData(new[] { 2, 3, 2, 3, 2, 3 }, new[] { 5, 3, 1, 4, 2, 0 })]
    public void Transpose_matches_reference(int[] dims, int[] perm)
    {
        var x = In.Random(dims, 11);
        var y = Run1(Device, "Transpose", Attrs(("perm", perm)), x);
        Assert.Equal(new TensorShape(perm.Select(a => dims[a]).ToArray()), y.Shape);
        Tolerance.AssertClose(Reference(x.Data!, dims, perm), y.Floats, Tolerance.Op);
    }

    [Fact]
    public void Default_perm_reverses_the_axes()
    {
        int[] dims = [3, 4, 5];
        var x = In.Random(dims, 12);
        var y = Run1(Device, "Transpose", null, x);
        Assert.Equal(new TensorShape(5, 4, 3), y.Shape);
        Tolerance.AssertClose(Reference(x.Data!, dims, [2, 1, 0]), y.Floats, Tolerance.Op);
    }

    [Fact]
    public void Rank_seven_with_mergeable_axes_runs()
    {
        // Axes 0-1 and 4-6 move together, so the kernel sees rank 3.
        int[] dims = [2, 1, 3, 2, 2, 1, 3];
        int[] perm = [2, 3, 0, 1, 4, 5, 6];
        var x = In.Random(dims, 13);
        var y = Run1(Device, "Transpose", Attrs(("perm", perm)), x);
        Tolerance.AssertClose(Reference(x.Data!, dims, perm), y.Floats, Tolerance.Op);
    }

    [Fact]
    public void Bad_perm_names_the_node_and_shape()
    {
        var x = In.Random([2, 3, 4], 14);
        var e = Assert.Throws<GraphException>(() => Run1(Device, "Transpose", Attrs(("perm", new[] { 0, 0, 1 })), x));
        Assert.Contains("transpose0", e.Message);
        Assert.Contains("[2, 3, 4]", e.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "Transpose", Attrs(("perm", new[] { 1, 0 })), x));
    }
}
