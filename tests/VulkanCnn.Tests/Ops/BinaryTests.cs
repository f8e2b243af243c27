using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>Broadcasting binary and variadic ops (Binary) against a double-precision CPU reference.</summary>
public sealed class BinaryTests(GpuFixture gpu) : GpuTest(gpu)
{
    private static readonly Dictionary<string, Func<double, double, double>> Ops = new()
    {
        ["Add"] = (a, b) => a + b,
        ["Sub"] = (a, b) => a - b,
        ["Mul"] = (a, b) => a * b,
        ["Div"] = (a, b) => a / b,
        ["Max"] = Math.Max,
        ["Min"] = Math.Min,
        ["Pow"] = Math.Pow,
        ["Sum"] = (a, b) => a + b,
        ["Mean"] = (a, b) => (a + b) / 2,
    };

    // Equal shapes (vec4 and not), scalar, per-channel [C,1,1] (vec4 splat and scalar), [1,W] vs [H,1],
    // rank mismatch, both sides broadcast, 1x1, and a rank-8 pair that collapses to few axes.
    private static readonly (int[] A, int[] B)[] Patterns =
    [
        ([2, 3, 5, 7], [2, 3, 5, 7]),
        ([2, 3, 4, 4], [2, 3, 4, 4]),
        ([2, 3, 5, 7], []),
        ([], [3, 5]),
        ([2, 3, 4, 5], [3, 1, 1]),
        ([2, 3, 5, 7], [3, 1, 1]),
        ([1, 7], [5, 1]),
        ([5], [2, 3, 4, 5]),
        ([2, 1, 4], [3, 1]),
        ([1, 1], [1, 1]),
        ([13], [1]),
        ([1, 2, 3, 1, 1, 4, 1, 5], [3, 1, 1, 4, 1, 1]),
    ];

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var op in Ops.Keys)
            for (int p = 0; p < Patterns.Length; p++) data.Add(op, p);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Binary_op_broadcasts_like_numpy(string op, int pattern)
    {
        var (sa, sb) = Patterns[pattern];
        var a = In.Random(sa, pattern * 10 + 1, -2, 2);
        var b = In.Random(sb, pattern * 10 + 2, -2, 2);
        if (op == "Div") b = new In(sb, b.Data!.Select(v => v < 0 ? v - 0.5f : v + 0.5f).ToArray());
        if (op == "Pow") a = new In(sa, a.Data!.Select(v => Math.Abs(v) + 0.1f).ToArray());
        var y = Run1(Device, op, null, a, b);
        var shape = BroadcastReference.Shape(sa, sb);
        Assert.Equal(new TensorShape(shape), y.Shape);
        var f = Ops[op];
        Tolerance.AssertClose(BroadcastReference.Map(shape, v => f(v[0], v[1]), (sa, a.Data!), (sb, b.Data!)), y.Floats, Tolerance.Op,
            $"{op} {new TensorShape(sa)} {new TensorShape(sb)}");
    }

    [Fact]
    public void Broadcast_layout_collapses_axes_and_picks_vec4()
    {
        // Equal shapes: one axis; per-channel: [N, C, HW]; the vec4 path needs the innermost axis % 4 == 0.
        var same = Elementwise.Plan([2, 3, 4, 4], [[2, 3, 4, 4], [2, 3, 4, 4]], allowVec4: true)!;
        Assert.Equal((1, true, 24u), (same.Rank, same.Vec4, same.Invocations));
        var channel = Elementwise.Plan([2, 3, 4, 5], [[2, 3, 4, 5], [3, 1, 1]], allowVec4: true)!;
        Assert.Equal((3, true, 30u), (channel.Rank, channel.Vec4, channel.Invocations));
        Assert.Equal([2u, 60u, 0u, 0u, 3u, 20u, 1u, 0u, 5u, 4u, 0u, 0u], channel.Axes[..12]);
        var odd = Elementwise.Plan([2, 3, 5, 7], [[2, 3, 5, 7], [3, 1, 1]], allowVec4: true)!;
        Assert.Equal((3, false, 210u), (odd.Rank, odd.Vec4, odd.Invocations));
        // A single axis of any length: vec4s plus a scalar tail.
        var tail = Elementwise.Plan([2, 3, 5, 7], [[2, 3, 5, 7], [1]], allowVec4: true)!;
        Assert.Equal((1, true, 53u, 210u), (tail.Rank, tail.Vec4, tail.Invocations, tail.Elements));
        Assert.Equal([53u, 4u, 0u, 0u], tail.Axes[..4]);
        var scalar = Elementwise.Plan([], [[], []], allowVec4: true)!;
        Assert.Equal((1, true, 1u, 1u), (scalar.Rank, scalar.Vec4, scalar.Invocations, scalar.Elements));
        Assert.Null(Elementwise.Plan([2, 2, 2, 2, 2, 2, 2], [[2, 1, 2, 1, 2, 1, 2], [2, 1, 2, 1, 2, 1]], allowVec4: true));
    }

    [Fact]
    public void Pow_handles_negative_bases_zero_and_integer_exponents()
    {
        float[] x = [-2f, -2f, -2f, -1.5f, 0f, 0f, 0f, 3f, -0.5f, 4f];
        float[] e = [2f, 3f, -1f, 0f, 2.5f, 0f, -1f, 0.5f, 4f, -0.5f];
        var y = Run1(Device, "Pow", null, In.Of([10], x), In.Of([10], e)).Floats!;
        var expected = x.Zip(e, (b, p) => (float)Math.Pow(b, p)).ToArray();
        Assert.Equal(float.PositiveInfinity, y[6]);
        Tolerance.AssertClose(expected.Where((_, i) => i != 6).ToArray(), y.Where((_, i) => i != 6).ToArray(), Tolerance.Op);
        Assert.True(float.IsNaN(Run1(Device, "Pow", null, In.Of([1], [-2f]), In.Of([1], [0.5f])).Floats![0]));
        // x^3 with x from -3..3 broadcast against a scalar exponent.
        var a = In.Random([3, 5], 9, -3, 3);
        Tolerance.AssertClose(a.Data!.Select(v => (float)Math.Pow(v, 3)).ToArray(),
            Run1(Device, "Pow", null, a, In.Weight([], [3f])).Floats, Tolerance.Op);
    }

    [Fact]
    public void PRelu_slope_broadcasts_to_x()
    {
        var x = In.Random([2, 3, 5, 7], 1, -2, 2);
        foreach (int[] slopeShape in new[] { new[] { 3, 1, 1 }, new int[0], new[] { 7 }, new[] { 2, 3, 5, 7 } })
        {
            var slope = In.Random(slopeShape, slopeShape.Length + 3, 0, 0.5f);
            var y = Run1(Device, "PRelu", null, x, slope with { Const = true });
            var expected = BroadcastReference.Map([2, 3, 5, 7], v => v[0] < 0 ? v[0] * v[1] : v[0], ([2, 3, 5, 7], x.Data!),
                (slopeShape, slope.Data!));
            Tolerance.AssertClose(expected, y.Floats, Tolerance.Op, $"slope {new TensorShape(slopeShape)}");
        }
        var e = Assert.Throws<GraphException>(() => Run1(Device, "PRelu", null, In.Random([3, 1], 2), In.Random([3, 4], 3)));
        Assert.Contains("[3, 4]", e.Message);
        Assert.Contains("[3, 1]", e.Message);
    }

    [Fact]
    public void Variadic_ops_take_one_to_many_inputs()
    {
        int[][] shapes = [[2, 1, 5], [3, 1], [1], [2, 3, 5], [5]];
        var inputs = shapes.Select((s, i) => In.Random(s, 40 + i, -3, 3)).ToArray();
        var outShape = BroadcastReference.Shape(shapes);
        var args = shapes.Zip(inputs, (s, x) => (s, x.Data!)).ToArray();
        foreach (int n in new[] { 1, 2, 3, 5 })
        {
            var use = inputs.Take(n).ToArray();
            var shape = BroadcastReference.Shape(shapes.Take(n).ToArray());
            foreach (var (op, f) in new (string, Func<double[], double>)[]
                     { ("Sum", v => v.Sum()), ("Mean", v => v.Average()), ("Max", v => v.Max()), ("Min", v => v.Min()) })
            {
                var y = Run1(Device, op, null, use);
                Assert.Equal(new TensorShape(shape), y.Shape);
                Tolerance.AssertClose(BroadcastReference.Map(shape, f, args.Take(n).ToArray()), y.Floats, Tolerance.Op, $"{op} of {n}");
            }
        }
        Assert.Equal(new TensorShape(outShape), Run1(Device, "Sum", null, inputs).Shape);
    }

    public static TheoryData<string, float, float> FusedActivations => new()
    {
        { "Relu", 0, 0 }, { "LeakyRelu", 0.1f, 0 }, { "Clip", 0, 6 }, { "Sigmoid", 0, 0 }, { "HardSwish", 0, 0 },
    };

    [Theory]
    [MemberData(nameof(FusedActivations))]
    public void Add_sub_mul_apply_a_fused_activation(string kind, float alpha, float beta)
    {
        Func<double, double> act = kind switch
        {
            "Relu" => v => Math.Max(v, 0),
            "LeakyRelu" => v => v >= 0 ? v : alpha * v,
            "Clip" => v => Math.Clamp(v, alpha, beta),
            "Sigmoid" => v => 1 / (1 + Math.Exp(-v)),
            _ => v => v * Math.Clamp(v / 6 + 0.5, 0, 1),
        };
        var a = In.Random([2, 3, 5, 7], 5, -4, 4);
        var b = In.Random([2, 3, 5, 7], 6, -4, 4);
        var c = In.Random([3, 1, 1], 7, -4, 4);
        foreach (var (op, f) in new (string, Func<double, double, double>)[] { ("Add", (x, y) => x + y), ("Sub", (x, y) => x - y),
            ("Mul", (x, y) => x * y) })
        {
            var attrs = new Attributes();
            new FusedActivation(Enum.Parse<ActivationKind>(kind), alpha, beta).WriteTo(attrs);
            Assert.True(new Binary().Traits(new Node(op, "n", ["a", "b"], ["y"])).HasFlag(OperatorTraits.AcceptsFusedActivation));
            Tolerance.AssertClose(BroadcastReference.Map([2, 3, 5, 7], v => act(f(v[0], v[1])), ([2, 3, 5, 7], a.Data!),
                ([2, 3, 5, 7], b.Data!)),
                Run1(Device, op, attrs, a, b).Floats, Tolerance.Op, $"{op}+{kind}");
            Tolerance.AssertClose(BroadcastReference.Map([2, 3, 5, 7], v => act(f(v[0], v[1])), ([2, 3, 5, 7], a.Data!),
                ([3, 1, 1], c.Data!)),
                Run1(Device, op, attrs, a, c).Floats, Tolerance.Op, $"{op}+{kind} per channel");
        }
        Assert.False(new Binary().Traits(new Node("Div", "d", ["a", "b"], ["y"])).HasFlag(OperatorTraits.AcceptsFusedActivation));
    }

    [Fact]
    public void Int64_constants_are_read_as_floats_and_divide_truncating()
    {
        var y = Run1(Device, "Div", null, new In([4], Ints: [7, -7, 9, 1], Const: true), new In([1], Ints: [2], Const: true));
        Assert.Equal([3f, -3f, 4f, 0f], y.Floats!);
        var x = In.Random([2, 3], 3);
        Tolerance.AssertClose(x.Data!.Select(v => v * 3).ToArray(), Run1(Device, "Mul", null, x, new In([], Ints: [3], Const: true)).Floats,
            Tolerance.Op);
        Tolerance.AssertClose(x.Data!.Select(v => v / 2).ToArray(),
            Run1(Device, "Div", null, x, new In([1], Ints: [2], Const: true)).Floats, Tolerance.Op);
    }

    [Fact]
    public void Bad_binary_nodes_throw_clear_exceptions()
    {
        var e = Assert.Throws<GraphException>(() => Run1(Device, "Add", null, In.Random([2, 3], 1), In.Random([4], 2)));
        Assert.Contains("add0", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[4]", e.Message);
        e = Assert.Throws<GraphException>(() => Run1(Device, "Sum", null, In.Random([2, 3], 1), In.Random([3], 2), In.Random([2, 2], 3)));
        Assert.Contains("[2, 2]", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "Mul", null, In.Random([2, 3], 1)));
        Assert.Throws<GraphException>(() => Run1(Device, "Max", null, In.Random([2, 3], 1), null));
        // Alternating broadcast over 7 axes cannot be merged below the kernel's 6.
        var u = Assert.Throws<UnsupportedAttributeException>(() =>
            Run1(Device, "Add", null, In.Random([2, 1, 2, 1, 2, 1, 2], 1), In.Random([2, 1, 2, 1, 2, 1], 2)));
        Assert.Contains("6 axes", u.Message);
    }
}
