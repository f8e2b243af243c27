using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Training;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Training;

/// <summary>
/// MaxPool / AveragePool / GlobalAveragePool / GlobalMaxPool backward against a double CPU
/// reference backward, which is itself checked against central finite differences.
/// </summary>
public sealed class PoolBackwardTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>One window-pooling configuration; pads are (top, left, bottom, right).</summary>
    public sealed record Window(int[] Shape, int[] K, int[] S, int[] D, int[] Pads, bool Ceil, bool IncludePad)
    {
        public int OutH => Ops.PoolTests.OutSize(Shape[2], K[0], S[0], D[0], Pads[0], Pads[2], Ceil);
        public int OutW => Ops.PoolTests.OutSize(Shape[3], K[1], S[1], D[1], Pads[1], Pads[3], Ceil);

        public Attributes Attributes(string op)
        {
            var a = Attrs(("kernel_shape", K), ("strides", S), ("pads", Pads), ("ceil_mode", Ceil ? 1 : 0));
            if (D.Any(v => v != 1)) a.Set("dilations", D);
            if (op == "AveragePool") a.Set("count_include_pad", IncludePad ? 1 : 0);
            return a;
        }
    }

    /// <summary>
    /// Window pooling in double. For each output: its value and, for max, the input index it came
    /// from (the first tap in row-major window order holding the maximum), or for average the
    /// divisor (taps inside the input, or inside [-pad, size + pad) with count_include_pad).
    /// </summary>
    private static (double[] Y, int[] Arg, int[] Divisor) Forward(double[] x, Window g, bool max)
    {
        int n = g.Shape[0], c = g.Shape[1], h = g.Shape[2], w = g.Shape[3], oh = g.OutH, ow = g.OutW;
        var y = new double[n * c * oh * ow];
        var arg = new int[y.Length];
        var div = new int[y.Length];
        for (int p = 0; p < n * c; p++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    int o = (p * oh + oy) * ow + ox, best = -1, inside = 0, padded = 0;
                    double acc = max ? double.NegativeInfinity : 0;
                    for (int ky = 0; ky < g.K[0]; ky++)
                        for (int kx = 0; kx < g.K[1]; kx++)
                        {
                            int yy = oy * g.S[0] - g.Pads[0] + ky * g.D[0], xx = ox * g.S[1] - g.Pads[1] + kx * g.D[1];
                            if (yy < h + g.Pads[2] && xx < w + g.Pads[3]) padded++;
                            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                            int i = (p * h + yy) * w + xx;
                            inside++;
                            if (!max) acc += x[i];
                            else if (x[i] > acc) { acc = x[i]; best = i; }
                        }
                    div[o] = g.IncludePad ? padded : inside;
                    y[o] = max ? acc : acc / div[o];
                    arg[o] = best;
                }
        return (y, arg, div);
    }

    /// <summary>dL/dX by scattering each output gradient to the taps it came from.</summary>
    private static double[] Backward(double[] x, double[] dy, Window g, bool max)
    {
        var (_, arg, div) = Forward(x, g, max);
        int n = g.Shape[0], c = g.Shape[1], h = g.Shape[2], w = g.Shape[3], oh = g.OutH, ow = g.OutW;
        var dx = new double[x.Length];
        for (int p = 0; p < n * c; p++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    int o = (p * oh + oy) * ow + ox;
                    if (max) { dx[arg[o]] += dy[o]; continue; }
                    for (int ky = 0; ky < g.K[0]; ky++)
                        for (int kx = 0; kx < g.K[1]; kx++)
                        {
                            int yy = oy * g.S[0] - g.Pads[0] + ky * g.D[0], xx = ox * g.S[1] - g.Pads[1] + kx * g.D[1];
                            if (yy >= 0 && yy < h && xx >= 0 && xx < w) dx[(p * h + yy) * w + xx] += dy[o] / div[o];
                        }
                }
        return dx;
    }

    /// <summary>Global pooling in double: average, or max routed to the first index holding the maximum.</summary>
    private static (double[] Y, double[] Dx) Global(double[] x, double[] dy, int planes, bool max)
    {
        int size = x.Length / planes;
        var y = new double[planes];
        var dx = new double[x.Length];
        for (int p = 0; p < planes; p++)
        {
            double acc = max ? double.NegativeInfinity : 0;
            int best = -1;
            for (int i = p * size; i < (p + 1) * size; i++)
                if (!max) acc += x[i];
                else if (x[i] > acc) { acc = x[i]; best = i; }
            y[p] = max ? acc : acc / size;
            if (max) dx[best] += dy[p];
            else for (int i = p * size; i < (p + 1) * size; i++) dx[i] += dy[p] / size;
        }
        return (y, dx);
    }

    /// <summary>Central differences of f at x (each coordinate perturbed by ±eps).</summary>
    private static double[] NumericGradient(Func<double[], double> f, double[] x, double eps = 1e-6) =>
        FiniteDifference.Gradient(f, x, eps);

    private static void AssertNear(double[] expected, double[] actual, double tolerance, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])),
                $"{what}[{i}]: finite difference {expected[i]}, analytic {actual[i]}");
    }

    private static double Dot(double[] a, double[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }
    private static double[] D(float[] v) => v.Select(f => (double)f).ToArray();
    private static float[] F(double[] v) => v.Select(d => (float)d).ToArray();

    private BackwardResult RunBackward(string op, Attributes? attrs, float[] x, TensorShape shape, float[] dy, TensorShape outShape,
        float[] initial)
    {
        var node = new Node(op, op.ToLowerInvariant() + "0", ["x"], ["y"], attrs);
        return BackwardRunner.Run(Device, node, [new NodeInput(HostTensor.FromFloats(shape, x))], [HostTensor.FromFloats(outShape, dy)],
            [true], training: true, initialGradients: [HostTensor.FromFloats(shape, initial)]);
    }

    public static TheoryData<string, Window> WindowCases => new()
    {
        { "MaxPool", new([2, 5, 9, 11], [3, 3], [2, 2], [1, 1], [1, 1, 1, 1], false, false) },     // ResNet stem, odd sizes
        // stride > kernel, one-sided pads, batch 3
        { "MaxPool", new([3, 3, 10, 13], [2, 3], [3, 4], [1, 1], [0, 1, 1, 0], false, false) },
        { "MaxPool", new([1, 6, 11, 9], [3, 2], [1, 2], [2, 3], [2, 0, 1, 2], false, false) },     // dilated, asymmetric pads
        { "MaxPool", new([2, 3, 10, 7], [3, 3], [2, 2], [1, 1], [0, 0, 0, 0], true, false) },      // ceil_mode adds a row/column
        { "MaxPool", new([1, 7, 5, 5], [2, 2], [2, 2], [1, 1], [1, 1, 1, 1], true, false) },       // ceil rule drops a padding-only window
        { "MaxPool", new([3, 5, 6, 5], [3, 2], [1, 1], [1, 1], [1, 0, 0, 1], false, false) },      // heavily overlapping windows
        { "MaxPool", new([3, 5, 1, 1], [1, 1], [1, 1], [1, 1], [0, 0, 0, 0], false, false) },      // 1x1 spatial
        { "MaxPool", new([2, 33001, 2, 1], [2, 1], [1, 1], [1, 1], [0, 0, 0, 0], false, false) },  // more planes than the grid's z limit
        { "AveragePool", new([2, 33001, 1, 2], [1, 2], [1, 1], [1, 1], [0, 1, 0, 0], false, true) },
        { "AveragePool", new([2, 5, 9, 11], [3, 3], [2, 2], [1, 1], [1, 1, 1, 1], false, false) },
        { "AveragePool", new([2, 5, 9, 11], [3, 3], [2, 2], [1, 1], [1, 1, 1, 1], false, true) },
        { "AveragePool", new([3, 3, 8, 13], [2, 4], [3, 5], [1, 1], [1, 0, 0, 2], false, true) },   // stride > kernel, one-sided pads
        { "AveragePool", new([1, 6, 10, 7], [3, 3], [2, 2], [1, 1], [1, 0, 0, 1], true, true) },    // ceil overhang not counted
        { "AveragePool", new([1, 6, 10, 7], [3, 3], [2, 2], [1, 1], [1, 0, 0, 1], true, false) },
        { "AveragePool", new([3, 3, 6, 5], [3, 3], [1, 1], [1, 1], [1, 1, 1, 1], false, true) },    // every input in up to 9 windows
        { "AveragePool", new([1, 5, 9, 8], [3, 2], [1, 1], [2, 2], [2, 1, 2, 1], false, true) },    // dilated
        // Windows that cannot overlap take the scatter kernel (pool_backward_disjoint).
        { "MaxPool", new([2, 6, 8, 10], [2, 2], [2, 2], [1, 1], [0, 0, 0, 0], false, false) },     // the usual 2x2 stride 2
        { "MaxPool", new([1, 4, 7, 9], [2, 2], [2, 2], [1, 1], [0, 0, 1, 1], true, false) },       // odd sizes, ceil_mode, end pads
        { "MaxPool", new([1, 3, 11, 12], [2, 2], [3, 4], [2, 3], [1, 0, 0, 2], false, false) },    // dilated, stride = extent
        { "MaxPool", new([2, 33001, 2, 2], [2, 2], [2, 2], [1, 1], [0, 0, 0, 0], false, false) },  // more planes than the grid's z limit
        { "AveragePool", new([2, 5, 8, 10], [2, 2], [2, 2], [1, 1], [0, 0, 0, 0], false, false) },
        { "AveragePool", new([1, 4, 7, 9], [2, 2], [2, 2], [1, 1], [1, 1, 0, 0], true, true) },    // padding counted, ceil overhang not
        { "AveragePool", new([1, 4, 7, 9], [2, 2], [2, 2], [1, 1], [1, 1, 0, 0], true, false) },
    };

    [Theory]
    [MemberData(nameof(WindowCases))]
    public void Window_backward_matches_reference_and_accumulates(string op, Window g)
    {
        bool max = op == "MaxPool";
        int seed = g.Shape.Sum() * 7 + g.K.Sum() + (max ? 1 : 0);
        var x = Reference.Random(g.Shape.Aggregate(1, (a, b) => a * b), seed, -2, 2);
        var outShape = new TensorShape(g.Shape[0], g.Shape[1], g.OutH, g.OutW);
        var dy = Reference.Random((int)outShape.ElementCount, seed + 1);
        var initial = Reference.Random(x.Length, seed + 2, -0.5f, 0.5f);

        var expectedGrad = Backward(D(x), D(dy), g, max);
        var r = RunBackward(op, g.Attributes(op), x, g.Shape, dy, outShape, initial);
        Tolerance.AssertClose(F(Forward(D(x), g, max).Y), r.Outputs[0].Floats, Tolerance.Op, "forward");
        Tolerance.AssertClose(F(expectedGrad.Select((v, i) => v + initial[i]).ToArray()), r.InputGradients[0]!.Floats, Tolerance.Op,
            "initial + dX");

        // The reference backward is the derivative of the reference forward (small cases: it costs a forward per input).
        if (x.Length > 5000) return;
        var numeric = NumericGradient(xs => Dot(D(dy), Forward(xs, g, max).Y), D(x));
        AssertNear(numeric, expectedGrad, 1e-6, "dX");
    }

    [Theory]
    [InlineData(2, 7, 7, 7)]
    [InlineData(3, 5, 1, 1)]
    [InlineData(1, 6, 16, 13)]
    public void Global_backward_matches_reference_and_accumulates(int n, int c, int h, int w)
    {
        var shape = new TensorShape(n, c, h, w);
        var x = Reference.Random(n * c * h * w, n * 10 + c + h, -2, 2);
        var dy = Reference.Random(n * c, c + 3);
        var initial = Reference.Random(x.Length, h + 5, -0.5f, 0.5f);
        foreach (bool max in new[] { false, true })
        {
            string op = max ? "GlobalMaxPool" : "GlobalAveragePool";
            var (y, dx) = Global(D(x), D(dy), n * c, max);
            var r = RunBackward(op, null, x, shape, dy, new TensorShape(n, c, 1, 1), initial);
            Tolerance.AssertClose(F(y), r.Outputs[0].Floats, Tolerance.Op, op);
            Tolerance.AssertClose(F(dx.Select((v, i) => v + initial[i]).ToArray()), r.InputGradients[0]!.Floats, Tolerance.Op, op + " dX");
            var numeric = NumericGradient(xs => Dot(D(dy), Global(xs, D(dy), n * c, max).Y), D(x));
            AssertNear(numeric, dx, 1e-6, op + " dX");
        }
    }

    [Fact]
    public void Max_ties_go_to_the_first_window_index_and_runs_are_bitwise_identical()
    {
        // Values from {-1, 0, 1}: most windows hold several maxima; padding never wins.
        var g = new Window([2, 3, 7, 6], [3, 3], [2, 1], [1, 1], [1, 1, 0, 1], false, false);
        var x = Reference.Random(2 * 3 * 7 * 6, 77, -1.5f, 1.5f).Select(v => MathF.Round(v)).ToArray();
        var outShape = new TensorShape(2, 3, g.OutH, g.OutW);
        var dy = Reference.Random((int)outShape.ElementCount, 78);
        var zero = new float[x.Length];
        var a = RunBackward("MaxPool", g.Attributes("MaxPool"), x, g.Shape, dy, outShape, zero);
        var b = RunBackward("MaxPool", g.Attributes("MaxPool"), x, g.Shape, dy, outShape, zero);
        Tolerance.AssertClose(F(Backward(D(x), D(dy), g, true)), a.InputGradients[0]!.Floats, Tolerance.Op, "dX with ties");
        Assert.Equal(a.InputGradients[0]!.Floats, b.InputGradients[0]!.Floats);

        // The same with disjoint 2x2 stride-2 windows (the scatter kernel).
        var d = new Window([2, 3, 6, 8], [2, 2], [2, 2], [1, 1], [0, 0, 0, 0], false, false);
        var xd = Reference.Random(2 * 3 * 6 * 8, 79, -1.5f, 1.5f).Select(v => MathF.Round(v)).ToArray();
        var outD = new TensorShape(2, 3, d.OutH, d.OutW);
        var dyD = Reference.Random((int)outD.ElementCount, 80);
        var rd = RunBackward("MaxPool", d.Attributes("MaxPool"), xd, d.Shape, dyD, outD, new float[xd.Length]);
        Tolerance.AssertClose(F(Backward(D(xd), D(dyD), d, true)), rd.InputGradients[0]!.Floats, Tolerance.Op, "disjoint dX with ties");

        // A constant plane: GlobalMaxPool gives everything to element 0 of each plane.
        var flat = new float[2 * 3 * 4 * 5];
        var r = RunBackward("GlobalMaxPool", null, flat, [2, 3, 4, 5], [1f, 2f, 3f, 4f, 5f, 6f], [2, 3, 1, 1], new float[flat.Length]);
        var expected = new float[flat.Length];
        for (int p = 0; p < 6; p++) expected[p * 20] = p + 1;
        Assert.Equal(expected, r.InputGradients[0]!.Floats);
    }

    [Fact]
    public void Only_the_data_input_has_a_gradient()
    {
        Assert.True(OperatorRegistry.TryGet("MaxPool", out var op));
        var d = Assert.IsAssignableFrom<IDifferentiable>(op);
        var node = new Node("MaxPool", "mp", ["x"], ["y"]);
        Assert.True(d.HasGradient(node, 0));
        Assert.False(d.HasGradient(node, 1));
    }
}
