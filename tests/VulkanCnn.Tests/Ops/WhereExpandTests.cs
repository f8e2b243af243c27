using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>Where (3-way broadcast select) and Expand (broadcast to a constant shape).</summary>
public sealed class WhereExpandTests(GpuFixture gpu) : GpuTest(gpu)
{
    public static TheoryData<int[], int[], int[]> WherePatterns => new()
    {
        { new[] { 2, 3, 5, 7 }, new[] { 2, 3, 5, 7 }, new[] { 2, 3, 5, 7 } },
        { new[] { 2, 3, 4, 4 }, new[] { 2, 3, 4, 4 }, new[] { 2, 3, 4, 4 } },
        { new[] { 5, 7 }, new[] { 2, 3, 5, 7 }, new int[0] },
        { new[] { 2, 3, 4, 4 }, new[] { 3, 1, 1 }, new[] { 4 } },
        { new[] { 1, 7 }, new[] { 5, 1 }, new int[0] },
        { new[] { 3, 1 }, new[] { 1, 4 }, new[] { 2, 1, 1 } },
        { new[] { 1, 1 }, new[] { 1 }, new[] { 1, 1, 1 } },
        { new[] { 13 }, new[] { 13 }, new[] { 1 } },
    };

    [Theory]
    [MemberData(nameof(WherePatterns))]
    public void Where_selects_with_three_way_broadcast(int[] sc, int[] sx, int[] sy)
    {
        // Condition values -1, 0, 1: every nonzero is true.
        var cond = new In(sc,
            Reference.Random((int)new TensorShape(sc).ElementCount, sc.Length + 1, -1.5f, 1.5f).Select(v => MathF.Round(v)).ToArray());
        var x = In.Random(sx, 2);
        var y = In.Random(sy, 3, 5, 6);
        var shape = BroadcastReference.Shape(sc, sx, sy);
        var result = Run1(Device, "Where", null, cond, x, y);
        Assert.Equal(new TensorShape(shape), result.Shape);
        var expected = BroadcastReference.Map(shape, v => v[0] != 0 ? v[1] : v[2], (sc, cond.Data!), (sx, x.Data!), (sy, y.Data!));
        Assert.Equal(expected, result.Floats!);
    }

    [Fact]
    public void Where_reads_an_int64_constant_mask()
    {
        var x = In.Random([2, 4], 1);
        var y = Run1(Device, "Where", null, new In([4], Ints: [1, 0, 0, 7], Const: true), x, In.Weight([], [-9f]));
        Assert.Equal([x.Data![0], -9f, -9f, x.Data[3], x.Data[4], -9f, -9f, x.Data[7]], y.Floats!);
    }

    public static TheoryData<int[], long[], int[]> ExpandCases => new()
    {
        { new[] { 3, 1 }, new long[] { 2, 3, 4 }, new[] { 2, 3, 4 } },
        { new[] { 2, 3 }, new long[] { 1 }, new[] { 2, 3 } },
        { new[] { 1 }, new long[] { 4, 4 }, new[] { 4, 4 } },
        { new[] { 3, 1, 5 }, new long[] { 2, 1, 6, 5 }, new[] { 2, 3, 6, 5 } },
        { new[] { 2, 3, 5, 7 }, new long[] { 3, 1, 1 }, new[] { 2, 3, 5, 7 } },
        { new[] { 3, 1, 1 }, new long[] { 2, 3, 5, 7 }, new[] { 2, 3, 5, 7 } },
        { new[] { 1, 8 }, new long[] { 3, 1 }, new[] { 3, 8 } },
        { new int[0], new long[] { 1, 1 }, new[] { 1, 1 } },
        { new[] { 13 }, new long[] { 13 }, new[] { 13 } },
    };

    [Theory]
    [MemberData(nameof(ExpandCases))]
    public void Expand_broadcasts_bidirectionally(int[] input, long[] shape, int[] expected)
    {
        var x = In.Random(input, input.Length + 7);
        var y = Run1(Device, "Expand", null, x, In.Int64(shape));
        Assert.Equal(new TensorShape(expected), y.Shape);
        Assert.Equal(BroadcastReference.Map(expected, v => v[0], (input, x.Data!)), y.Floats!);
    }

    [Fact]
    public void Bad_where_and_expand_throw_clear_exceptions()
    {
        var e = Assert.Throws<GraphException>(() =>
            Run1(Device, "Where", null, In.Random([2, 3], 1), In.Random([2, 3], 2), In.Random([4], 3)));
        Assert.Contains("where0", e.Message);
        Assert.Contains("[4]", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "Where", null, In.Random([2, 3], 1), In.Random([2, 3], 2)));
        e = Assert.Throws<GraphException>(() => Run1(Device, "Expand", null, In.Random([2, 3], 1), In.Int64(4)));
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[4]", e.Message);
        Assert.Contains("negative",
            Assert.Throws<GraphException>(() => Run1(Device, "Expand", null, In.Random([3], 1), In.Int64(-1, 3))).Message);
        Assert.Throws<UnsupportedAttributeException>(() => Run1(Device, "Expand", null, In.Random([3], 1), In.Int64(0, 3)));
        var u = Assert.Throws<UnsupportedAttributeException>(() =>
            Run1(Device, "Expand", null, In.Random([3], 1), new In([2], Ints: [2, 3])));
        Assert.Contains("shape", u.Message);
    }
}
