using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Training;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Training;

/// <summary>
/// Backward of the broadcasting binary and variadic ops (binary_backward*) against a
/// double-precision CPU reference written here: dY times the partial derivatives, summed over the
/// broadcast axes of each input; the reference is checked against central finite differences.
/// </summary>
public sealed class BinaryBackwardTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>f(args) and its partial derivative in argument k, in double.</summary>
    private sealed record OpDef(Func<double[], double> F, Func<double[], int, double> D, float Low = -1, float High = 1, float LowB = -1,
        float HighB = 1);

    private static readonly Dictionary<string, OpDef> Ops = new()
    {
        ["Add"] = new(a => a[0] + a[1], (_, _) => 1),
        ["Sub"] = new(a => a[0] - a[1], (_, k) => k == 0 ? 1 : -1),
        ["Mul"] = new(a => a[0] * a[1], (a, k) => a[1 - k]),
        ["Div"] = new(a => a[0] / a[1], (a, k) => k == 0 ? 1 / a[1] : -a[0] / (a[1] * a[1]), LowB: 0.5f, HighB: 2),
        ["Max"] = new(a => a.Max(), (a, k) => a[k] == a.Max() ? 1 : 0),
        ["Min"] = new(a => a.Min(), (a, k) => a[k] == a.Min() ? 1 : 0),
        ["Pow"] = new(a => Math.Pow(a[0], a[1]), (a, k) => k == 0 ? a[1] * Math.Pow(a[0], a[1] - 1) : Math.Pow(a[0], a[1]) * Math.Log(a[0]),
            Low: 0.5f, High: 2, LowB: -2, HighB: 2),
        ["PRelu"] = new(a => a[0] < 0 ? a[0] * a[1] : a[0], (a, k) => k == 0 ? (a[0] > 0 ? 1 : a[1]) : (a[0] > 0 ? 0 : a[0])),
        ["Sum"] = new(a => a.Sum(), (_, _) => 1),
        ["Mean"] = new(a => a.Average(), (a, _) => 1.0 / a.Length),
    };

    // Every broadcast pattern: [C,1,1] vs [N,C,H,W] (both ways), scalar, [1,W] vs [H,1], rank
    // mismatch, both inputs broadcast on alternating axes, equal shapes.
    private static readonly int[][][] Patterns =
    [
        [[2, 3, 4, 5], [3, 1, 1]],
        [[3, 1, 1], [2, 3, 4, 5]],
        [[3, 5], []],
        [[1, 5], [4, 1]],
        [[5], [2, 3, 1, 5]],
        [[2, 1, 3], [1, 4, 1]],
        [[3, 7], [3, 7]],
    ];

    public static TheoryData<string, int> BinaryCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var op in new[] { "Add", "Sub", "Mul", "Div", "Max", "Min", "Pow" })
            for (int p = 0; p < Patterns.Length; p++) data.Add(op, p);
        return data;
    }

    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void Binary_gradients_reduce_over_broadcast_axes(string op, int pattern)
    {
        var shapes = Patterns[pattern];
        CheckCase(op, shapes, seed: op.Length * 100 + pattern);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void PRelu_slope_gradient_is_reduced_over_its_broadcast(int pattern)
    {
        int[][][] shapes = [[[2, 3, 4, 5], [3, 1, 1]], [[3, 5], []], [[2, 3, 4], [4]]];
        CheckCase("PRelu", shapes[pattern], seed: 900 + pattern, awayFromZero: true);
    }

    [Theory]
    [InlineData("Sum")]
    [InlineData("Mean")]
    [InlineData("Max")]
    [InlineData("Min")]
    public void Variadic_ops_send_gradients_to_every_input(string op)
    {
        CheckCase(op, [[2, 3, 4], [3, 1], [4]], seed: 700 + op.Length);
        CheckCase(op, [[3, 2]], seed: 710 + op.Length);
    }

    [Theory]
    [InlineData("Add", ActivationKind.Relu, 0f, 0f)]
    [InlineData("Sub", ActivationKind.LeakyRelu, 0.2f, 0f)]
    [InlineData("Mul", ActivationKind.Sigmoid, 0f, 0f)]
    [InlineData("Add", ActivationKind.Clip, -0.3f, 0.4f)]
    [InlineData("Mul", ActivationKind.Tanh, 0f, 0f)]
    public void Fused_activation_multiplies_dy_by_its_derivative(string op, ActivationKind kind, float alpha, float beta)
    {
        var activation = new FusedActivation(kind, alpha, beta);
        CheckCase(op, [[2, 3, 4, 5], [3, 1, 1]], seed: 500 + (int)kind, activation: activation);
    }

    [Fact]
    public void Relu_fused_into_add_has_zero_gradient_at_zero()
    {
        float[] a = [1f, -2f, 0.5f, 3f], b = [-1f, 2f, 0.25f, -3.5f]; // sums 0, 0, 0.75, -0.5
        var attrs = new Attributes();
        new FusedActivation(ActivationKind.Relu).WriteTo(attrs);
        var r = Run("Add", attrs, [[4], [4]], [a, b], [1f, 1f, 1f, 1f], [null, null]);
        Assert.Equal([0f, 0f, 1f, 0f], r[0]);
        Assert.Equal([0f, 0f, 1f, 0f], r[1]);
    }

    [Fact]
    public void Max_and_min_ties_share_the_gradient_evenly()
    {
        // Two-input ties halve the gradient as torch.maximum / torch.minimum do; a 3-way tie thirds it.
        float[] a = [1f, 2f, 5f, -1f], b = [1f, 3f, 4f, -1f], c = [1f, 0f, 5f, -2f];
        float[] dy = [6f, 6f, 6f, 6f];
        var max2 = Run("Max", null, [[4], [4]], [a, b], dy, [null, null]);
        Tolerance.AssertClose([3f, 0f, 6f, 3f], max2[0], Tolerance.Op);
        Tolerance.AssertClose([3f, 6f, 0f, 3f], max2[1], Tolerance.Op);
        var max3 = Run("Max", null, [[4], [4], [4]], [a, b, c], dy, [null, null, null]);
        Tolerance.AssertClose([2f, 0f, 3f, 3f], max3[0], Tolerance.Op);
        Tolerance.AssertClose([2f, 6f, 0f, 3f], max3[1], Tolerance.Op);
        Tolerance.AssertClose([2f, 0f, 3f, 0f], max3[2], Tolerance.Op);
        var min3 = Run("Min", null, [[4], [4], [4]], [a, b, c], dy, [null, null, null]);
        Tolerance.AssertClose([2f, 0f, 0f, 0f], min3[0], Tolerance.Op);
        Tolerance.AssertClose([2f, 0f, 6f, 0f], min3[1], Tolerance.Op);
        Tolerance.AssertClose([2f, 6f, 0f, 6f], min3[2], Tolerance.Op);
    }

    [Fact]
    public void Pow_conventions_at_zero_and_negative_bases()
    {
        // Base gradient b * a^(b-1) with integer exponents of negative bases; exponent gradient
        // y * log(a): 0 at a == 0 with b >= 0 (PyTorch), NaN for a < 0.
        float[] a = [-2f, -1.5f, 0f, 0f, 2f], b = [3f, 2f, 2f, 0f, 0.5f];
        var r = Run("Pow", null, [[5], [5]], [a, b], [1f, 1f, 1f, 1f, 1f], [null, null]);
        Tolerance.AssertClose([12f, -3f, 0f, 0f, (float)(0.5 / Math.Sqrt(2))], r[0], Tolerance.Op, "dBase");
        Tolerance.AssertClose([0f, 0f, (float)(Math.Sqrt(2) * Math.Log(2))], r[1].AsSpan(2), Tolerance.Op, "dExponent");
        Assert.True(float.IsNaN(r[1][0]) && float.IsNaN(r[1][1]));
    }

    [Fact]
    public void Long_reductions_run_in_chunks_and_are_bitwise_reproducible()
    {
        // A [3,1,1] bias of a [4,3,24,24] sum reduces 2304 positions per element: chunked partial sums.
        CheckCase("Add", [[4, 3, 24, 24], [3, 1, 1]], seed: 31, finiteDifferences: false);
        CheckCase("Mul", [[1, 1, 3, 700], [1]], seed: 32, finiteDifferences: false);
        var a = Reference.Random(4 * 3 * 24 * 24, 33);
        var b = Reference.Random(3, 34);
        var dy = Reference.Random(a.Length, 35);
        var first = Run("Mul", null, [[4, 3, 24, 24], [3, 1, 1]], [a, b], dy, [null, null]);
        var second = Run("Mul", null, [[4, 3, 24, 24], [3, 1, 1]], [a, b], dy, [null, null]);
        Assert.Equal(first[1], second[1]);
        Assert.Equal(first[0], second[0]);
    }

    [Fact]
    public void Int64_constant_operand_is_read_but_gets_no_gradient()
    {
        var node = new Node("Mul", "mul0", ["a", "k"], ["y"]);
        var a = HostTensor.FromFloats(new TensorShape(2, 3), [1, 2, 3, 4, 5, 6]);
        var k = HostTensor.FromInts(new TensorShape(3), [2, -1, 3]);
        var dy = HostTensor.FromFloats(new TensorShape(2, 3), [1, 1, 1, 2, 2, 2]);
        var r = BackwardRunner.Run(Device, node, [new NodeInput(a), new NodeInput(k, true)], [dy], [true, false]);
        Assert.Equal([2f, -1f, 3f, 4f, -2f, 6f], r.InputGradients[0]!.Floats!);
        var e = Assert.Throws<UnsupportedAttributeException>(() =>
            BackwardRunner.Run(Device, node, [new NodeInput(a), new NodeInput(k, true)], [dy], [false, true]));
        Assert.Contains("mul0", e.Message);
    }

    [Fact]
    public void Fused_activation_on_other_ops_is_unsupported()
    {
        var attrs = new Attributes();
        new FusedActivation(ActivationKind.Relu).WriteTo(attrs);
        var e = Assert.Throws<UnsupportedAttributeException>(() =>
            Run("Div", attrs, [[2], [2]], [[1f, 2f], [1f, 2f]], [1f, 1f], [null, null]));
        Assert.Contains("Div", e.Message);
    }

    [Fact]
    public void Only_requested_gradients_are_written()
    {
        var node = new Node("Sub", "sub0", ["a", "b"], ["y"]);
        var a = HostTensor.FromFloats(new TensorShape(2), [1, 2]);
        var r = BackwardRunner.Run(Device, node, [new NodeInput(a), new NodeInput(a)], [a], [false, true]);
        Assert.Null(r.InputGradients[0]);
        Assert.Equal([-1f, -2f], r.InputGradients[1]!.Floats!);
    }

    /// <summary>GPU gradients (from random non-zero initial gradients) against the reference, which is
    /// first checked against finite differences.</summary>
    private void CheckCase(string op, int[][] shapes, int seed, FusedActivation activation = default, bool awayFromZero = false,
        bool finiteDifferences = true)
    {
        var def = Ops[op];
        var output = BroadcastShape(shapes);
        var data = shapes.Select((s, k) =>
            Reference.Random(Count(s), seed + k, k == 1 ? def.LowB : def.Low, k == 1 ? def.HighB : def.High)).ToArray();
        if (awayFromZero) foreach (var d in data) for (int i = 0; i < d.Length; i++) if (Math.Abs(d[i]) < 1e-2f) d[i] = 0.1f;
        var dy = Reference.Random(Count(output), seed + 10);
        var initial = shapes.Select((s, k) => Reference.Random(Count(s), seed + 20 + k)).ToArray();

        var (act, actD) = ActivationOf(activation);
        var args = data.Select(d => d.Select(v => (double)v).ToArray()).ToArray();
        var expected = ReferenceBackward(output, shapes, args, dy, def, actD);
        if (finiteDifferences)
            AssertMatchesFiniteDifferences(x => ReferenceLoss(output, shapes, x, dy, def, act), args, expected);

        var attrs = new Attributes();
        if (activation.Kind != ActivationKind.None) activation.WriteTo(attrs);
        var result = Run(op, attrs, shapes, data, dy, initial);
        for (int k = 0; k < shapes.Length; k++)
            Tolerance.AssertClose(expected[k].Select((g, i) => (float)(initial[k][i] + g)).ToArray(), result[k], Tolerance.Op,
                $"{op} d{k}");
    }

    private float[][] Run(string op, Attributes? attrs, int[][] shapes, float[][] data, float[] dy, float[]?[] initial)
    {
        var node = new Node(op, op.ToLowerInvariant() + "0", shapes.Select((_, k) => $"x{k}"), ["y"], attrs);
        var inputs = shapes.Select((s, k) => (NodeInput?)new NodeInput(HostTensor.FromFloats(new TensorShape(s), data[k]))).ToList();
        var r = BackwardRunner.Run(Device, node, inputs, [HostTensor.FromFloats(new TensorShape(BroadcastShape(shapes)), dy)],
            shapes.Select(_ => true).ToList(),
                initialGradients: initial.Select((g, k) => g is null ? null
                    : HostTensor.FromFloats(new TensorShape(shapes[k]), g)).ToList());
        return r.InputGradients.Select(g => g!.Floats!).ToArray();
    }

    private static (Func<double, double> F, Func<double, double> D) ActivationOf(FusedActivation a) => a.Kind switch
    {
        ActivationKind.None => (z => z, _ => 1),
        ActivationKind.Relu => (z => Math.Max(z, 0), z => z > 0 ? 1 : 0),
        ActivationKind.LeakyRelu => (z => z >= 0 ? z : a.Alpha * z, z => z > 0 ? 1 : a.Alpha),
        ActivationKind.Sigmoid => (z => 1 / (1 + Math.Exp(-z)), z => Math.Exp(-z) / ((1 + Math.Exp(-z)) * (1 + Math.Exp(-z)))),
        ActivationKind.Tanh => (Math.Tanh, z => 1 - Math.Tanh(z) * Math.Tanh(z)),
        ActivationKind.Clip => (z => Math.Min(Math.Max(z, a.Alpha), a.Beta), z => z >= a.Alpha && z <= a.Beta ? 1 : 0),
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    /// <summary>Per input, dL/dx = sum over the output positions reading x of dY * act'(z) * df/dx_k.</summary>
    private static double[][] ReferenceBackward(int[] output, int[][] shapes, double[][] x, float[] dy, OpDef def, Func<double,
        double> actD)
    {
        var grads = shapes.Select(s => new double[Count(s)]).ToArray();
        var args = new double[shapes.Length];
        for (int o = 0; o < dy.Length; o++)
        {
            var offsets = shapes.Select(s => OffsetOf(o, output, s)).ToArray();
            for (int k = 0; k < args.Length; k++) args[k] = x[k][offsets[k]];
            double g = dy[o] * actD(def.F(args));
            for (int k = 0; k < args.Length; k++) grads[k][offsets[k]] += g * def.D(args, k);
        }
        return grads;
    }

    private static double ReferenceLoss(int[] output, int[][] shapes, double[][] x, float[] dy, OpDef def, Func<double, double> act)
    {
        double loss = 0;
        var args = new double[shapes.Length];
        for (int o = 0; o < dy.Length; o++)
        {
            for (int k = 0; k < args.Length; k++) args[k] = x[k][OffsetOf(o, output, shapes[k])];
            loss += dy[o] * act(def.F(args));
        }
        return loss;
    }

    /// <summary>Flat index in an input of <paramref name="shape"/> read by output element <paramref name="flat"/> (NumPy
    /// broadcasting).</summary>
    private static int OffsetOf(int flat, int[] output, int[] shape)
    {
        int offset = 0, stride = 1;
        for (int d = output.Length - 1; d >= 0; d--)
        {
            int c = flat % output[d];
            flat /= output[d];
            int s = d - (output.Length - shape.Length);
            if (s < 0) continue;
            if (shape[s] != 1) offset += c * stride;
            stride *= shape[s];
        }
        return offset;
    }

    private static int[] BroadcastShape(int[][] shapes)
    {
        int rank = shapes.Max(s => s.Length);
        return Enumerable.Range(0, rank).Select(d => shapes.Max(s => d < rank - s.Length ? 1 : s[d - (rank - s.Length)])).ToArray();
    }

    private static int Count(int[] shape) => shape.Aggregate(1, (a, b) => a * b);

    private static void AssertMatchesFiniteDifferences(Func<double[][], double> loss, double[][] x, double[][] analytic) =>
        FiniteDifference.AssertMatches(loss, x, analytic);
}
