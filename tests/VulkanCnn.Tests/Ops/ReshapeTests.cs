using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>Zero-copy views and no-op operators. Also the template for operator tests: build inputs,
/// run the node on the GPU, compare with a CPU reference under <see cref="Tolerance.Op"/>.</summary>
public sealed class ReshapeTests(GpuFixture gpu) : GpuTest(gpu)
{
    [Theory]
    [InlineData(new long[] { 3, -1 }, new[] { 3, 8 })]
    [InlineData(new long[] { 0, 0, 2, 2 }, new[] { 2, 3, 2, 2 })]
    [InlineData(new long[] { -1 }, new[] { 24 })]
    public void Reshape_infers_dimensions_and_keeps_data(long[] target, int[] expected)
    {
        var x = In.Random([2, 3, 4], 1);
        var y = Run1(Device, "Reshape", null, x, In.Int64(target));
        Assert.Equal(new TensorShape(expected), y.Shape);
        Assert.Equal(x.Data, y.Floats);
    }

    [Fact]
    public void Flatten_squeeze_unsqueeze_shapes()
    {
        var x = In.Random([2, 1, 3, 1], 2);
        Assert.Equal(new TensorShape(2, 3), Run1(Device, "Flatten", Attrs(("axis", 1)), x).Shape);
        Assert.Equal(new TensorShape(6, 1), Run1(Device, "Flatten", Attrs(("axis", -1)), x).Shape);
        Assert.Equal(new TensorShape(1, 6), Run1(Device, "Flatten", Attrs(("axis", 0)), x).Shape);
        Assert.Equal(new TensorShape(2, 3), Run1(Device, "Squeeze", null, x).Shape);
        Assert.Equal(new TensorShape(2, 3, 1), Run1(Device, "Squeeze", Attrs(("axes", new[] { 1 })), x).Shape);
        Assert.Equal(new TensorShape(2, 3), Run1(Device, "Squeeze", null, x, In.Int64(1, -1)).Shape);
        var u = Run1(Device, "Unsqueeze", null, In.Random([3, 4], 3), In.Int64(0, 3));
        Assert.Equal(new TensorShape(1, 3, 4, 1), u.Shape);
    }

    [Fact]
    public void Bad_views_name_the_node_and_shapes()
    {
        var x = In.Random([2, 3], 4);
        var e = Assert.Throws<GraphException>(() => Run1(Device, "Reshape", null, x, In.Int64(4, 2)));
        Assert.Contains("reshape0", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[4, 2]", e.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "Reshape", null, x, In.Int64(-1, -1)));
        Assert.Throws<GraphException>(() => Run1(Device, "Squeeze", Attrs(("axes", new[] { 1 })), x));
        Assert.Throws<UnsupportedAttributeException>(() => Run1(Device, "Reshape", null, x, new In([2], [3f, 2f])));
    }

    [Fact]
    public void Identity_and_dropout_pass_values_through()
    {
        var x = In.Random([5, 7], 5);
        Assert.Equal(x.Data, Run1(Device, "Identity", null, x).Floats);
        Assert.Equal(x.Data, Run1(Device, "Dropout", Attrs(("ratio", 0.5f)), x).Floats);
        Assert.Throws<UnsupportedAttributeException>(() => Run1(Device, "Dropout", Attrs(("training_mode", 1)), x));
    }
}
