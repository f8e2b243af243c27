using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>DepthToSpace / SpaceToDepth against the ONNX definition: reshape to 6-D, transpose, reshape.</summary>
public sealed class DepthToSpaceTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>Reshape x to <paramref name="six"/>, transpose by <paramref name="perm"/> (the spec's own formulation).</summary>
    internal static float[] ReshapeTranspose(float[] x, int[] six, int[] perm)
    {
        int[] outDims = perm.Select(a => six[a]).ToArray();
        return NdIndex.Build(outDims, o =>
        {
            var src = new int[6];
            for (int d = 0; d < 6; d++) src[perm[d]] = o[d];
            return x[NdIndex.Flat(src, six)];
        });
    }

    internal static float[] DepthToSpaceReference(float[] x, int n, int c, int h, int w, int bs, string mode) => mode == "DCR"
        ? ReshapeTranspose(x, [n, bs, bs, c / (bs * bs), h, w], [0, 3, 4, 1, 5, 2])
        : ReshapeTranspose(x, [n, c / (bs * bs), bs, bs, h, w], [0, 1, 4, 2, 5, 3]);

    private static float[] SpaceToDepthReference(float[] x, int n, int c, int h, int w, int bs) =>
        ReshapeTranspose(x, [n, c, h / bs, bs, w / bs, bs], [0, 3, 5, 1, 2, 4]);

    [Theory]
    [InlineData("DCR", 2, 8, 3, 5, 2)]
    [InlineData("CRD", 2, 8, 3, 5, 2)]
    [InlineData("DCR", 1, 27, 2, 1, 3)]
    [InlineData("CRD", 1, 18, 1, 1, 3)]   // 1x1 spatial, 2 output channels
    public void DepthToSpace_matches_reference(string mode, int n, int c, int h, int w, int bs)
    {
        var x = In.Random([n, c, h, w], 71);
        var y = Run1(Device, "DepthToSpace", Attrs(("blocksize", bs), ("mode", mode)), x);
        Assert.Equal(new TensorShape(n, c / (bs * bs), h * bs, w * bs), y.Shape);
        Tolerance.AssertClose(DepthToSpaceReference(x.Data!, n, c, h, w, bs, mode), y.Floats, Tolerance.Op);
    }

    [Theory]
    [InlineData(2, 3, 4, 6, 2)]
    [InlineData(1, 5, 3, 3, 3)]  // output 1x1 spatial
    public void SpaceToDepth_matches_reference_and_DCR_undoes_it(int n, int c, int h, int w, int bs)
    {
        var x = In.Random([n, c, h, w], 72);
        var y = Run1(Device, "SpaceToDepth", Attrs(("blocksize", bs)), x);
        Assert.Equal(new TensorShape(n, c * bs * bs, h / bs, w / bs), y.Shape);
        Tolerance.AssertClose(SpaceToDepthReference(x.Data!, n, c, h, w, bs), y.Floats, Tolerance.Op);

        var back = Run1(Device, "DepthToSpace", Attrs(("blocksize", bs)), In.Of(y.Shape, y.Floats!));
        Assert.Equal(x.Shape, back.Shape);
        Assert.Equal(x.Data, back.Floats);
    }

    [Fact]
    public void CRD_then_SpaceToDepth_returns_the_channels_regrouped()
    {
        // SpaceToDepth inverts DCR; after CRD it returns channel c * bs² + b at position b * C' + c.
        const int n = 2, c = 12, h = 3, w = 2, bs = 2, groups = c / (bs * bs);
        var x = In.Random([n, c, h, w], 73);
        var d2s = Run1(Device, "DepthToSpace", Attrs(("blocksize", bs), ("mode", "CRD")), x);
        var back = Run1(Device, "SpaceToDepth", Attrs(("blocksize", bs)), In.Of(d2s.Shape, d2s.Floats!));
        Assert.Equal(x.Shape, back.Shape);
        var expected = NdIndex.Build([n, c, h, w], o =>
        {
            int b = o[1] / groups, g = o[1] % groups;
            return x.Data![NdIndex.Flat([o[0], g * bs * bs + b, o[2], o[3]], [n, c, h, w])];
        });
        Assert.Equal(expected, back.Floats);
    }

    [Fact]
    public void Bad_block_sizes_name_the_shape()
    {
        var e = Assert.Throws<GraphException>(() => Run1(Device, "DepthToSpace", Attrs(("blocksize", 2)), In.Random([1, 6, 2, 2], 74)));
        Assert.Contains("depthtospace0", e.Message);
        Assert.Contains("[1, 6, 2, 2]", e.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "SpaceToDepth", Attrs(("blocksize", 2)), In.Random([1, 6, 3, 2], 74)));
        Assert.Throws<GraphException>(() => Run1(Device, "DepthToSpace", null, In.Random([1, 4, 2, 2], 74)));
        Assert.Throws<GraphException>(() =>
            Run1(Device, "DepthToSpace", Attrs(("blocksize", 2), ("mode", "XYZ")), In.Random([1, 4, 2, 2], 74)));
    }
}
