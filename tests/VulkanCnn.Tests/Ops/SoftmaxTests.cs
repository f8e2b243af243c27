using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>Softmax / LogSoftmax over any axis (opset 13) against a double-precision CPU reference.</summary>
public sealed class SoftmaxTests(GpuFixture gpu) : GpuTest(gpu)
{
    // Short and long rows, last and inner axes (strided rows), few and many rows: both kernel modes
    // (on a CPU device [2,4096], [1,4096,2] and [1,1,1030] take a workgroup per row).
    public static TheoryData<int[], int> Cases => new()
    {
        { new[] { 2, 3, 5, 7 }, -1 },
        { new[] { 2, 3, 5, 7 }, 0 },
        { new[] { 2, 3, 5, 7 }, 1 },
        { new[] { 2, 3, 5, 7 }, 2 },
        { new[] { 1, 1000 }, -1 },
        { new[] { 2, 4096 }, 1 },
        { new[] { 3, 1000, 2 }, 1 },
        { new[] { 1, 4096, 2 }, 1 },
        { new[] { 1, 1, 1030 }, -1 },
        { new[] { 4, 100, 70 }, 1 },
        { new[] { 64, 10 }, -1 },
        { new[] { 13 }, 0 },
        { new[] { 1, 1 }, -1 },
        { new[] { 5, 1 }, 0 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Softmax_matches_reference(int[] shape, int axis) => Check("Softmax", shape, axis, 4);

    [Theory]
    [MemberData(nameof(Cases))]
    public void LogSoftmax_matches_reference(int[] shape, int axis) => Check("LogSoftmax", shape, axis, 4);

    [Theory]
    [InlineData("Softmax", 1000)]
    [InlineData("LogSoftmax", 1000)]
    [InlineData("Softmax", 30000)]
    [InlineData("LogSoftmax", 30000)]
    public void Large_magnitudes_stay_finite(string op, float magnitude)
    {
        // exp(±magnitude) overflows float: only the max-subtracted form survives.
        Check(op, [3, 257], -1, magnitude);
        Check(op, [6, 9, 5], 1, magnitude);
        var offset = In.Of([2, 3], [1e4f, 1e4f + 1, 1e4f + 2, -1e4f, -1e4f - 1, -1e4f - 2]);
        var y = Run1(Device, op, null, offset).Floats!;
        Assert.All(y, v => Assert.True(float.IsFinite(v)));
        Tolerance.AssertClose(Reference(op, [2, 3], 1, offset.Data!), y, Tolerance.Op);
    }

    [Fact]
    public void Default_axis_is_last()
    {
        var x = In.Random([3, 4, 6], 8, -3, 3);
        Tolerance.AssertClose(Reference("Softmax", [3, 4, 6], 2, x.Data!), Run1(Device, "Softmax", null, x).Floats, Tolerance.Op);
    }

    [Fact]
    public void Bad_axis_names_the_node()
    {
        var e = Assert.Throws<GraphException>(() => Run1(Device, "Softmax", Attrs(("axis", 3)), In.Random([2, 3, 4], 1)));
        Assert.Contains("softmax0", e.Message);
        Assert.Contains("axis 3", e.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "LogSoftmax", Attrs(("axis", -4)), In.Random([2, 3, 4], 1)));
        Assert.Throws<GraphException>(() => Run1(Device, "Softmax", null, In.Of([], [1f])));
    }

    private void Check(string op, int[] shape, int axis, float magnitude)
    {
        var x = In.Random(shape, shape.Sum() + axis, -magnitude, magnitude);
        var y = Run1(Device, op, Attrs(("axis", axis)), x);
        Assert.Equal(new TensorShape(shape), y.Shape);
        Tolerance.AssertClose(Reference(op, shape, axis, x.Data!), y.Floats, Tolerance.Op, $"{op} {new TensorShape(shape)} axis {axis}");
    }

    internal static float[] Reference(string op, int[] shape, int axis, float[] x)
    {
        if (axis < 0) axis += shape.Length;
        int outer = shape.Take(axis).Aggregate(1, (a, b) => a * b);
        int inner = shape.Skip(axis + 1).Aggregate(1, (a, b) => a * b);
        int n = shape[axis];
        var y = new float[x.Length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int At(int k) => (o * n + k) * inner + i;
                double max = double.NegativeInfinity;
                for (int k = 0; k < n; k++) max = Math.Max(max, x[At(k)]);
                double sum = 0;
                for (int k = 0; k < n; k++) sum += Math.Exp(x[At(k)] - max);
                for (int k = 0; k < n; k++)
                    y[At(k)] = (float)(op == "Softmax" ? Math.Exp(x[At(k)] - max) / sum : x[At(k)] - max - Math.Log(sum));
            }
        return y;
    }
}
