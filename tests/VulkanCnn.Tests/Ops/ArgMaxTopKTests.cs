using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>ArgMax, ArgMin and TopK against CPU references, with ties.</summary>
public sealed class ArgMaxTopKTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>Values from a small set, so that many elements tie.</summary>
    private static float[] Tied(int count, int seed) => Reference.Random(count, seed, 0, 4).Select(v => MathF.Floor(v)).ToArray();

    private static (int Outer, int Length, int Inner) Split(int[] shape, int axis) =>
        (shape.Take(axis).Aggregate(1, (a, b) => a * b), shape[axis], shape.Skip(axis + 1).Aggregate(1, (a, b) => a * b));

    private static float[] ArgRef(float[] x, int[] shape, int axis, bool min, bool last)
    {
        var (outer, len, inner) = Split(shape, axis);
        var y = new float[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                for (int j = 1; j < len; j++)
                {
                    double v = x[(o * len + j) * inner + i], b = x[(o * len + best) * inner + i];
                    if (min ? v < b || (last && v == b) : v > b || (last && v == b)) best = j;
                }
                y[o * inner + i] = best;
            }
        return y;
    }

    [Theory]
    [InlineData("ArgMax", new[] { 2, 5, 7 }, 1, true, false)]
    [InlineData("ArgMax", new[] { 2, 5, 7 }, 1, false, true)]
    [InlineData("ArgMax", new[] { 2, 5, 7 }, -1, false, false)]
    [InlineData("ArgMax", new[] { 3, 1, 4 }, 0, true, true)]
    [InlineData("ArgMin", new[] { 2, 5, 7 }, 2, true, false)]
    [InlineData("ArgMin", new[] { 2, 5, 7 }, 0, false, true)]
    [InlineData("ArgMax", new[] { 6, 1 }, 1, false, false)]   // length-1 axis
    public void Arg_with_ties_matches_reference(string op, int[] shape, int axis, bool keep, bool last)
    {
        var data = Tied(shape.Aggregate(1, (a, b) => a * b), shape.Sum() + axis);
        var y = Run1(Device, op, Attrs(("axis", axis), ("keepdims", keep ? 1 : 0), ("select_last_index", last ? 1 : 0)),
            In.Of(shape, data));
        int a = axis < 0 ? axis + shape.Length : axis;
        var outShape = shape.ToList();
        if (keep) outShape[a] = 1; else outShape.RemoveAt(a);
        Assert.Equal(new TensorShape(outShape.ToArray()), y.Shape);
        Assert.Equal(ArgRef(data, shape, a, op == "ArgMin", last), y.Floats!);
    }

    [Fact]
    public void ArgMax_defaults_to_axis_0_and_keepdims()
    {
        var y = Run1(Device, "ArgMax", null, In.Of([3, 2], [1f, 9f, 5f, 9f, 5f, 2f]));
        Assert.Equal(new TensorShape(1, 2), y.Shape);
        Assert.Equal([1f, 0f], y.Floats!);   // column 0: 5 ties at 1 and 2 → first; column 1: 9 ties → first
        var last = Run1(Device, "ArgMax", Attrs(("select_last_index", 1)), In.Of([3, 2], [1f, 9f, 5f, 9f, 5f, 2f]));
        Assert.Equal([2f, 1f], last.Floats!);
        Assert.Throws<GraphException>(() => Run1(Device, "ArgMax", Attrs(("axis", 2)), In.Random([3, 2], 1)));
    }

    /// <summary>Per row: (value, index) pairs ordered best first, ties by ascending index.</summary>
    private static (float[] Values, float[] Indices) TopKRef(float[] x, int[] shape, int axis, int k, bool largest)
    {
        var (outer, len, inner) = Split(shape, axis);
        var values = new float[outer * k * inner];
        var indices = new float[outer * k * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                var order = Enumerable.Range(0, len)
                    .OrderBy(j => largest ? -(double)x[(o * len + j) * inner + i] : x[(o * len + j) * inner + i])
                    .ThenBy(j => j).Take(k).ToArray();
                for (int r = 0; r < k; r++)
                {
                    values[(o * k + r) * inner + i] = x[(o * len + order[r]) * inner + i];
                    indices[(o * k + r) * inner + i] = order[r];
                }
            }
        return (values, indices);
    }

    [Theory]
    [InlineData(new[] { 2, 7, 13 }, -1, 5, true, true)]
    [InlineData(new[] { 2, 7, 13 }, -1, 5, false, true)]
    [InlineData(new[] { 2, 7, 13 }, 1, 3, true, false)]     // inner axis, ties
    [InlineData(new[] { 2, 7, 13 }, 1, 7, false, true)]     // K = axis length: a full sort
    [InlineData(new[] { 3, 150 }, 1, 150, true, true)]      // a full sort longer than a workgroup
    [InlineData(new[] { 4, 1 }, 1, 1, true, false)]
    public void TopK_matches_reference(int[] shape, int axis, int k, bool largest, bool tied)
    {
        int count = shape.Aggregate(1, (a, b) => a * b);
        var data = tied ? Tied(count, k + axis) : Reference.Random(count, k + axis);
        var outputs = Run(Device, "TopK", Attrs(("axis", axis), ("largest", largest ? 1 : 0)), In.Of(shape, data), In.Int64(k));
        int a = axis < 0 ? axis + shape.Length : axis;
        var outShape = (int[])shape.Clone();
        outShape[a] = k;
        Assert.Equal(2, outputs.Count);
        Assert.Equal(new TensorShape(outShape), outputs[0].Shape);
        Assert.Equal(new TensorShape(outShape), outputs[1].Shape);
        var (values, indices) = TopKRef(data, shape, a, k, largest);
        Assert.Equal(values, outputs[0].Floats!);
        Assert.Equal(indices, outputs[1].Floats!);
    }

    [Fact]
    public void Top5_of_1000_classes()
    {
        var data = Reference.Random(2 * 1000, 9);
        data[1000 + 17] = data[1000 + 400] = 5f;   // a tie at the top of the second row
        var outputs = Run(Device, "TopK", null, In.Of([2, 1000], data), In.Int64(5));
        var (values, indices) = TopKRef(data, [2, 1000], 1, 5, true);
        Assert.Equal(values, outputs[0].Floats!);
        Assert.Equal(indices, outputs[1].Floats!);
        Assert.Equal([5f, 5f], outputs[0].Floats!.Skip(5).Take(2));
        Assert.Equal([17f, 400f], outputs[1].Floats!.Skip(5).Take(2));
    }

    [Fact]
    public void TopK_opset_1_attribute_k()
    {
        var x = In.Random([3, 6], 10);
        var outputs = Run(Device, "TopK", Attrs(("k", 2)), x);
        var (values, indices) = TopKRef(x.Data!, [3, 6], 1, 2, true);
        Assert.Equal(values, outputs[0].Floats!);
        Assert.Equal(indices, outputs[1].Floats!);
    }

    [Fact]
    public void Bad_top_k_arguments_are_rejected_clearly()
    {
        var x = In.Random([2, 5], 11);
        var e = Assert.Throws<GraphException>(() => Run(Device, "TopK", null, x, In.Int64(6)));
        Assert.Contains("topk0", e.Message);
        Assert.Contains("K = 6", e.Message);
        Assert.Contains("[2, 5]", e.Message);
        Assert.Throws<GraphException>(() => Run(Device, "TopK", null, x, In.Int64(-1)));
        Assert.Throws<GraphException>(() => Run(Device, "TopK", null, x, In.Int64(1, 2)));
        Assert.Throws<GraphException>(() => Run(Device, "TopK", null, x));
        Assert.Throws<GraphException>(() => Run(Device, "TopK", Attrs(("axis", 2)), x, In.Int64(1)));
        Assert.Throws<UnsupportedAttributeException>(() => Run(Device, "TopK", null, x, In.Int64(0)));
        Assert.Throws<UnsupportedAttributeException>(() => Run(Device, "TopK", null, x, new In([1], [2f])));   // K not constant
    }
}
