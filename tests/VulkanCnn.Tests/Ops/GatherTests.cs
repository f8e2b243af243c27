using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>Gather against a CPU reference indexing the data one output element at a time.</summary>
public sealed class GatherTests(GpuFixture gpu) : GpuTest(gpu)
{
    internal static (int[] Dims, float[] Data) Reference(float[] x, int[] dims, int axis, int[] indexDims, long[] indices)
    {
        int[] outDims = [.. dims[..axis], .. indexDims, .. dims[(axis + 1)..]];
        var data = NdIndex.Build(outDims, o =>
        {
            int j = NdIndex.Flat(o[axis..(axis + indexDims.Length)], indexDims);
            long v = indices[j];
            if (v < 0) v += dims[axis];
            int[] src = [.. o[..axis], (int)v, .. o[(axis + indexDims.Length)..]];
            return x[NdIndex.Flat(src, dims)];
        });
        return (outDims, data);
    }

    public static TheoryData<int[], int, int[], long[]> Cases => new()
    {
        { [5, 3, 7], 0, [4], [4, 0, -1, 2] },
        { [5, 3, 7], 0, [2, 3], [1, -5, 3, 3, 0, -2] },            // 2-D indices, repeats
        { [2, 6, 3, 5], 1, [2, 2], [5, -6, 0, 3] },                 // 2-D indices on axis 1
        { [2, 6, 5], -1, [3], [-1, 0, 2] },
        { [2, 6, 1, 1], 1, [3], [1, 5, -2] },                       // 1x1 spatial
        { [7], 0, [], [-3] },                                        // scalar index: rank 0 output
        { [4, 5], 1, [], [2] },                                      // scalar index drops the axis
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gather_matches_reference(int[] dims, int axis, int[] indexDims, long[] indices)
    {
        var x = In.Random(dims, 61);
        var y = Run1(Device, "Gather", Attrs(("axis", axis)), x, new In(indexDims, Ints: indices, Const: true));
        var (outDims, expected) = Reference(x.Data!, dims, axis < 0 ? axis + dims.Length : axis, indexDims, indices);
        Assert.Equal(new TensorShape(outDims), y.Shape);
        Tolerance.AssertClose(expected, y.Floats, Tolerance.Op);
    }

    [Fact]
    public void Index_out_of_range_is_a_compile_time_error()
    {
        var x = In.Random([5, 3], 62);
        var e = Assert.Throws<GraphException>(() => Run1(Device, "Gather", Attrs(("axis", 1)), x, In.Int64(0, 3)));
        Assert.Contains("gather0", e.Message);
        Assert.Contains("index 3", e.Message);
        Assert.Contains("[5, 3]", e.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "Gather", null, x, In.Int64(-6)));
        Assert.Throws<GraphException>(() => Run1(Device, "Gather", Attrs(("axis", 2)), x, In.Int64(0)));
        Assert.Throws<UnsupportedAttributeException>(() => Run1(Device, "Gather", null, x, In.Of([1], [0f])));
    }
}
