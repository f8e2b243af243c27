using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>Slice against a CPU reference that walks each axis with Python-style clamping.</summary>
public sealed class SliceTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>The indices Python's range(start, end, step) visits after ONNX clamping.</summary>
    private static List<int> Walk(long start, long end, long step, int dim)
    {
        if (start < 0) start += dim;
        if (end < 0) end += dim;
        if (step > 0) { start = Math.Clamp(start, 0, dim); end = Math.Clamp(end, 0, dim); }
        else { start = Math.Clamp(start, 0, dim - 1); end = Math.Clamp(end, -1, dim - 1); }
        var r = new List<int>();
        for (long i = start; step > 0 ? i < end : i > end; i += step) r.Add((int)i);
        return r;
    }

    internal static (int[] Dims, float[] Data) Reference(float[] x, int[] dims, long[] starts, long[] ends, long[]? axes, long[]? steps)
    {
        var picks = dims.Select(d => Enumerable.Range(0, d).ToList()).ToArray();
        for (int i = 0; i < starts.Length; i++)
        {
            int axis = (int)(axes?[i] ?? i);
            if (axis < 0) axis += dims.Length;
            picks[axis] = Walk(starts[i], ends[i], steps?[i] ?? 1, dims[axis]);
        }
        int[] outDims = picks.Select(p => p.Count).ToArray();
        return (outDims, NdIndex.Build(outDims, o => x[NdIndex.Flat(o.Select((c, d) => picks[d][c]).ToArray(), dims)]));
    }

    public static TheoryData<int[], long[], long[], long[]?, long[]?> Cases => new()
    {
        { [2, 3, 5, 7], [1], [6], [3], null },                             // last axis
        { [2, 3, 5, 7], [0, 1, 1], [2, 3, 4], [0, 1, 2], [1, 1, 2] },       // several axes, step 2
        { [2, 3, 5, 7], [-1], [long.MinValue], [3], [-1] },                  // reverse with the INT64 min sentinel
        { [2, 3, 5, 7], [5, 0], [-100, long.MaxValue], [2, -1], [-2, 3] },   // negative step from a clamped start
        { [3, 6, 5], [-2, 1], [long.MaxValue, -1], [-1, 1], [1, 1] },        // negative axes and starts
        { [4, 5], [10], [-10], [1], [-3] },                                  // start clamps to dim - 1
        { [2, 3, 1, 1], [1], [2], [1], null },                              // 1x1 spatial
        { [6, 5, 4], [0, 0, 0], [6, 5, 4], [0, 1, 2], [5, 4, 3] },           // steps as large as the axis
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Slice_matches_reference(int[] dims, long[] starts, long[] ends, long[]? axes, long[]? steps)
    {
        var x = In.Random(dims, 21);
        In?[] inputs = [x, In.Int64(starts), In.Int64(ends), axes is null ? null : In.Int64(axes), steps is null ? null : In.Int64(steps)];
        if (steps is null) inputs = inputs[..4];
        var y = Run1(Device, "Slice", null, inputs);
        var (outDims, expected) = Reference(x.Data!, dims, starts, ends, axes, steps);
        Assert.Equal(new TensorShape(outDims), y.Shape);
        Tolerance.AssertClose(expected, y.Floats, Tolerance.Op);
    }

    [Fact]
    public void Opset_1_attributes()
    {
        int[] dims = [3, 4, 5];
        var x = In.Random(dims, 22);
        var y = Run1(Device, "Slice", Attrs(("starts", new[] { 1, -3 }), ("ends", new[] { 1000, -1 }), ("axes", new[] { 0, 2 })), x);
        var (outDims, expected) = Reference(x.Data!, dims, [1, -3], [1000, -1], [0, 2], null);
        Assert.Equal(new TensorShape(outDims), y.Shape);
        Tolerance.AssertClose(expected, y.Floats, Tolerance.Op);
    }

    [Fact]
    public void Bad_slices_name_the_node_and_shape()
    {
        var x = In.Random([2, 3, 4], 23);
        var e = Assert.Throws<GraphException>(() => Run1(Device, "Slice", null, x, In.Int64(0), In.Int64(1), In.Int64(3)));
        Assert.Contains("slice0", e.Message);
        Assert.Contains("[2, 3, 4]", e.Message);
        Assert.Contains("axis 3", e.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "Slice", null, x, In.Int64(0, 0), In.Int64(1, 1), In.Int64(1, -2)));
        Assert.Throws<GraphException>(() => Run1(Device, "Slice", null, x, In.Int64(0), In.Int64(1), In.Int64(0), In.Int64(0)));
        Assert.Throws<GraphException>(() => Run1(Device, "Slice", null, x, In.Int64(0, 1), In.Int64(1)));
        Assert.Throws<UnsupportedAttributeException>(() => Run1(Device, "Slice", null, x, In.Of([1], [0f]), In.Int64(1)));
    }

    [Fact]
    public void Empty_slices_have_a_zero_axis_and_run_no_kernel()
    {
        var x = In.Random([2, 3, 4], 24);
        var backwards = Run1(Device, "Slice", null, x, In.Int64(2), In.Int64(1), In.Int64(1));           // start after end, step 1
        Assert.Equal(new TensorShape(2, 0, 4), backwards.Shape);
        Assert.Empty(backwards.Floats!);
        var outOfBounds = Run1(Device, "Slice", null, x, In.Int64(1000), In.Int64(1000), In.Int64(2));  // both clamp to 4
        Assert.Equal(new TensorShape(2, 3, 0), outOfBounds.Shape);
        // An empty input stays empty on its zero axis whatever the step; its other axes still slice.
        var empty = Run1(Device, "Slice", null, new In([2, 0, 4], []), In.Int64(5, 1), In.Int64(-10, 3), In.Int64(1, 2), In.Int64(-1, 1));
        Assert.Equal(new TensorShape(2, 0, 2), empty.Shape);
    }
}
