using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>ReduceSum, ReduceMean, ReduceMax, ReduceMin over arbitrary axes against a double-precision reference.</summary>
public sealed class ReduceTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>Reduces <paramref name="x"/> over the axes flagged in <paramref name="reduced"/>; the result is laid out over the kept axes
    /// in order.</summary>
    internal static float[] ReduceRef(string op, float[] x, int[] shape, bool[] reduced)
    {
        int rank = shape.Length;
        int outCount = 1, redCount = 1;
        for (int a = 0; a < rank; a++) { if (reduced[a]) redCount *= shape[a]; else outCount *= shape[a]; }
        var acc = new double[outCount];
        Array.Fill(acc, op switch { "ReduceMax" => double.NegativeInfinity, "ReduceMin" => double.PositiveInfinity, _ => 0 });
        var coord = new int[rank];
        for (int i = 0; i < x.Length; i++)
        {
            int rest = i;
            for (int a = rank - 1; a >= 0; a--) { coord[a] = rest % shape[a]; rest /= shape[a]; }
            int o = 0;
            for (int a = 0; a < rank; a++) if (!reduced[a]) o = o * shape[a] + coord[a];
            acc[o] = op switch
            {
                "ReduceMax" => Math.Max(acc[o], x[i]),
                "ReduceMin" => Math.Min(acc[o], x[i]),
                _ => acc[o] + x[i],
            };
        }
        return acc.Select(v => (float)(op == "ReduceMean" ? v / redCount : v)).ToArray();
    }

    private static int[] OutShape(int[] shape, bool[] reduced, bool keep) =>
        shape.Select((d, a) => reduced[a] ? (keep ? 1 : 0) : d).Where(d => d > 0).ToArray();

    public static TheoryData<string, int[], long[], bool> Cases()
    {
        var data = new TheoryData<string, int[], long[], bool>();
        foreach (string op in new[] { "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin" })
        {
            data.Add(op, [2, 5, 3, 7], [1], true);            // single axis
            data.Add(op, [2, 5, 3, 7], [0, 2], false);        // non-adjacent axes
            data.Add(op, [2, 5, 3, 7], [-1, -3], true);       // negative axes
            data.Add(op, [2, 5, 3, 7], [2, 3], false);        // spatial (global pooling)
            data.Add(op, [3, 40, 50], [], false);             // everything: the workgroup-per-output kernel
        }
        data.Add("ReduceMean", [2, 7, 9, 11, 13], [0, 2, 4], true);   // alternating kept/reduced axes
        data.Add("ReduceSum", [1, 6, 1, 5], [0, 2], false);           // size-1 axes
        data.Add("ReduceMax", [2, 3000], [1], true);                  // few long rows: workgroup per output
        data.Add("ReduceSum", [9], [0], false);                       // to a scalar
        data.Add("ReduceMean", [1100, 2, 3], [0, 2], false);          // workgroup per output over a strided reduced space
        data.Add("ReduceMin", [1100, 2, 3], [0, 2], true);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reduce_matches_reference(string op, int[] shape, long[] axes, bool keep)
    {
        var x = In.Random(shape, shape.Sum() + axes.Length, -2, 2);
        var attrs = Attrs(("keepdims", keep ? 1 : 0));
        // ReduceSum takes axes as an input (opset 13), the others as an attribute (opset < 18).
        HostTensor y = axes.Length == 0 ? Run1(Device, op, attrs, x)
            : op == "ReduceSum" ? Run1(Device, op, attrs, x, In.Int64(axes))
            : Run1(Device, op, attrs.Set("axes", axes), x);
        var reduced = new bool[shape.Length];
        foreach (long a in axes) reduced[a < 0 ? a + shape.Length : a] = true;
        if (axes.Length == 0) Array.Fill(reduced, true);
        Assert.Equal(new TensorShape(OutShape(shape, reduced, keep)), y.Shape);
        Tolerance.AssertClose(ReduceRef(op, x.Data!, shape, reduced), y.Floats, Tolerance.Op);
    }

    [Fact]
    public void Axes_as_input_for_opset_18_reduce_mean_and_max()
    {
        int[] shape = [2, 3, 4];
        var x = In.Random(shape, 3);
        var mean = Run1(Device, "ReduceMean", Attrs(("keepdims", 0)), x, In.Int64(-1));
        Tolerance.AssertClose(ReduceRef("ReduceMean", x.Data!, shape, [false, false, true]), mean.Floats, Tolerance.Op);
        var max = Run1(Device, "ReduceMax", null, x, In.Int64(0, 1));
        Assert.Equal(new TensorShape(1, 1, 4), max.Shape);
        Tolerance.AssertClose(ReduceRef("ReduceMax", x.Data!, shape, [true, true, false]), max.Floats, Tolerance.Op);
    }

    [Fact]
    public void Empty_axes_reduce_everything_unless_noop()
    {
        var x = In.Random([2, 3, 5], 4);
        var all = Run1(Device, "ReduceSum", null, x);
        Assert.Equal(new TensorShape(1, 1, 1), all.Shape);
        Tolerance.AssertClose([(float)x.Data!.Sum(v => (double)v)], all.Floats, Tolerance.Op);
        var noop = Run1(Device, "ReduceSum", Attrs(("noop_with_empty_axes", 1)), x);
        Assert.Equal(new TensorShape(2, 3, 5), noop.Shape);
        Tolerance.AssertClose(x.Data, noop.Floats, Tolerance.Op);
        var noopMean = Run1(Device, "ReduceMean", Attrs(("noop_with_empty_axes", 1), ("keepdims", 0)), x);
        Tolerance.AssertClose(x.Data, noopMean.Floats, Tolerance.Op);
    }

    [Fact]
    public void Max_of_negative_infinities_is_negative_infinity()
    {
        var y = Run1(Device, "ReduceMax", Attrs(("axes", new[] { 1 })),
            In.Of([1, 3], [float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity]));
        Assert.Equal(float.NegativeInfinity, y.Floats![0]);
    }

    [Fact]
    public void Bad_axes_are_rejected_clearly()
    {
        var x = In.Random([2, 3, 4], 5);
        var e = Assert.Throws<GraphException>(() => Run1(Device, "ReduceMean", Attrs(("axes", new[] { 1, -2 })), x));
        Assert.Contains("reducemean0", e.Message);
        Assert.Contains("twice", e.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "ReduceSum", null, x, In.Int64(3)));
        Assert.Throws<GraphException>(() => Run1(Device, "ReduceMax", Attrs(("axes", new[] { 0 })), x, In.Int64(1)));
        Assert.Throws<UnsupportedAttributeException>(() => Run1(Device, "ReduceSum", null, x, new In([1], [1f])));   // axes not constant
        // Ten axes of size 2, every other one reduced: five reduced groups, more than the kernel indexes.
        var deep = In.Random(Enumerable.Repeat(2, 10).ToArray(), 6);
        Assert.Throws<UnsupportedAttributeException>(() => Run1(Device, "ReduceSum", null, deep, In.Int64(0, 2, 4, 6, 8)));
    }
}
