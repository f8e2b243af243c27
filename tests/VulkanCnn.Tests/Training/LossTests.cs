using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Training;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Training;

/// <summary>
/// SoftmaxCrossEntropyLoss (reductions, class weights, ignore_index, label smoothing, bad labels)
/// and MseLoss, forward and backward, against double CPU references that are themselves checked
/// with central finite differences.
/// </summary>
public sealed class LossTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>A cross-entropy problem; Labels hold class indices as floats; Shape is the scores' shape.</summary>
    private sealed record Ce(int[] Shape, float[] Scores, float[] Labels, float[]? Weights, long? Ignore, float Smoothing, string Reduction)
    {
        public int N => Shape[0];
        public int C => Shape[1];
        public int Inner => Shape.Skip(2).Aggregate(1, (a, b) => a * b);
        public int Rows => N * Inner;
        public TensorShape LabelShape => new([N, .. Shape.Skip(2)]);
        public TensorShape LossShape => Reduction == "none" ? LabelShape : new TensorShape();
        public int Index(int row, int k) => (row / Inner * C + k) * Inner + row % Inner;

        public bool Ignored(int row) => Ignore is { } ig && Labels[row] == ig;
        public bool Bad(int row) => !Ignored(row) && !(Labels[row] >= 0 && Labels[row] < C && Labels[row] == MathF.Floor(Labels[row]));
        public double W(int k) => Weights is null ? 1 : Weights[k];

        public Node Node(bool logProb = false)
        {
            var a = Attrs(("reduction", Reduction), (SoftmaxCrossEntropyLoss.LabelSmoothingAttribute, Smoothing));
            if (Ignore is { } ig) a.Set("ignore_index", ig);
            return new Node("SoftmaxCrossEntropyLoss", "sce0", Weights is null ? ["scores", "labels"] : ["scores", "labels", "weights"],
                logProb ? ["loss", "log_prob"] : ["loss"], a);
        }

        public IReadOnlyList<NodeInput?> Inputs()
        {
            var list = new List<NodeInput?> { new(HostTensor.FromFloats(Shape, Scores)), new(HostTensor.FromFloats(LabelShape, Labels)) };
            if (Weights is not null) list.Add(new(HostTensor.FromFloats([C], Weights), true));
            return list;
        }
    }

    private static double[] LogSoftmax(Ce p, double[] s, int row)
    {
        double m = double.NegativeInfinity;
        for (int k = 0; k < p.C; k++) m = Math.Max(m, s[p.Index(row, k)]);
        double sum = 0;
        for (int k = 0; k < p.C; k++) sum += Math.Exp(s[p.Index(row, k)] - m);
        return Enumerable.Range(0, p.C).Select(k => s[p.Index(row, k)] - m - Math.Log(sum)).ToArray();
    }

    /// <summary>Per-row losses (PyTorch's smoothed definition; bad rows skipped) and the valid rows' total weight.</summary>
    private static (double[] Rows, double Total) CeRows(Ce p, double[] s)
    {
        var loss = new double[p.Rows];
        double total = 0;
        for (int r = 0; r < p.Rows; r++)
        {
            if (p.Ignored(r) || p.Bad(r)) continue;
            var lp = LogSoftmax(p, s, r);
            int y = (int)p.Labels[r];
            double spread = 0;
            for (int k = 0; k < p.C; k++) spread -= p.W(k) * lp[k];
            loss[r] = (1 - p.Smoothing) * -p.W(y) * lp[y] + p.Smoothing / p.C * spread;
            total += p.W(y);
        }
        return (loss, total);
    }

    /// <summary>The op's output: per-row losses (none) or their sum / weighted mean.</summary>
    private static double[] CeForward(Ce p, double[] s)
    {
        var (rows, total) = CeRows(p, s);
        return p.Reduction switch { "none" => rows, "sum" => [rows.Sum()], _ => [rows.Sum() / total] };
    }

    /// <summary>dL/dscores through the log-softmax Jacobian: g_k = scale · (c_k − p_k Σ_j c_j) with c = dL/dlogp.</summary>
    private static double[] CeBackward(Ce p, double[] s, double[] dy)
    {
        var (_, total) = CeRows(p, s);
        var ds = new double[s.Length];
        for (int r = 0; r < p.Rows; r++)
        {
            if (p.Ignored(r) || p.Bad(r)) continue;
            double scale = p.Reduction switch { "none" => dy[r], "sum" => dy[0], _ => dy[0] / total };
            var prob = LogSoftmax(p, s, r).Select(Math.Exp).ToArray();
            int y = (int)p.Labels[r];
            var c = Enumerable.Range(0, p.C).Select(k =>
                -(1 - p.Smoothing) * p.W(y) * (k == y ? 1 : 0) - p.Smoothing / p.C * p.W(k)).ToArray();
            double sumC = c.Sum();
            for (int k = 0; k < p.C; k++) ds[p.Index(r, k)] = scale * (c[k] - prob[k] * sumC);
        }
        return ds;
    }

    private static double[] NumericGradient(Func<double[], double> f, double[] x, double eps = 1e-6) =>
        FiniteDifference.Gradient(f, x, eps);

    private static void AssertNear(double[] numeric, double[] analytic, string what)
    {
        for (int i = 0; i < numeric.Length; i++)
            Assert.True(Math.Abs(numeric[i] - analytic[i]) <= 1e-6 * Math.Max(1, Math.Abs(numeric[i])),
                $"{what}[{i}]: finite difference {numeric[i]}, analytic {analytic[i]}");
    }

    private static double Dot(double[] a, double[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }
    private static double[] D(float[] v) => v.Select(f => (double)f).ToArray();
    private static float[] F(IEnumerable<double> v) => v.Select(d => (float)d).ToArray();

    /// <summary>Labels in [0, C), with every <paramref name="every"/>-th row set to <paramref name="special"/>.</summary>
    private static float[] Labels(int rows, int c, int seed, int every = 0, float special = 0) =>
        Enumerable.Range(0, rows).Select(r => every > 0 && r % every == 1 ? special : (float)new Random(seed + r).Next(c)).ToArray();

    public static TheoryData<int[], string, float, bool, long?, float> CeCases => new()
    {
        // scores shape, reduction, label smoothing, class weights, ignore_index, score offset
        { [5, 7], "mean", 0f, false, null, 0f },
        { [3, 4, 2, 3], "mean", 0.1f, false, 2, 0f },     // [N, C, D1, D2], ignore_index that is a real class
        { [6, 10], "sum", 0.2f, true, null, 0f },
        { [4, 3, 5], "none", 0.15f, true, -1, 0f },       // [N, C, D1], ignored rows, class weights
        { [3, 5], "mean", 0.1f, true, -100, 100f },       // large scores: log-sum-exp keeps exp finite
    };

    [Theory]
    [MemberData(nameof(CeCases))]
    public void Cross_entropy_matches_reference_and_accumulates(int[] shape, string reduction, float smoothing, bool weighted, long? ignore,
        float offset)
    {
        int count = shape.Aggregate(1, (a, b) => a * b), c = shape[1], seed = count + c;
        int rows = count / c;
        var p = new Ce(shape, Reference.Random(count, seed, -3, 3).Select(v => v + offset).ToArray(),
            Labels(rows, c, seed, ignore is null ? 0 : 3, ignore ?? 0), weighted ? Reference.Random(c, seed + 1, 0.2f, 2f) : null, ignore,
                smoothing, reduction);
        if (ignore is not null) Assert.Contains(p.Labels, l => l == ignore);
        var dy = Reference.Random((int)p.LossShape.ElementCount, seed + 2, 0.5f, 1.5f);
        var initial = Reference.Random(count, seed + 3);
        var r = BackwardRunner.Run(Device, p.Node(logProb: true), p.Inputs(), [HostTensor.FromFloats(p.LossShape, dy)],
            [true, false, false],
            initialGradients: [HostTensor.FromFloats(shape, initial)]);

        var s = D(p.Scores);
        Assert.Equal(p.LossShape, r.Outputs[0].Shape);
        Tolerance.AssertClose(F(CeForward(p, s)), r.Outputs[0].Floats, Tolerance.Op, "loss");
        var logProb = new double[count];
        for (int row = 0; row < rows; row++)
        {
            var lp = LogSoftmax(p, s,
            row); for (int k = 0; k < c; k++) logProb[p.Index(row, k)] = lp[k];
        }
        Tolerance.AssertClose(F(logProb), r.Outputs[1].Floats, Tolerance.Op, "log_prob");
        var ds = CeBackward(p, s, D(dy));
        Tolerance.AssertClose(F(ds.Select((v, i) => v + initial[i])), r.InputGradients[0]!.Floats, Tolerance.Op, "initial + dscores");

        AssertNear(NumericGradient(x => Dot(D(dy), CeForward(p, x)), s), ds, "dscores");
    }

    [Fact]
    public void Unweighted_gradient_is_softmax_minus_smoothed_one_hot_over_n()
    {
        var p = new Ce([3, 4], [1, 2, 3, 4, 0, 0, 0, 0, -1, 5, 2, 2], [3, 0, 1], null, null, 0.2f, "mean");
        var r = BackwardRunner.Run(Device, p.Node(), p.Inputs(), [HostTensor.Scalar(1f)], [true]);
        var expected = new double[12];
        for (int row = 0; row < 3; row++)
        {
            var e = Enumerable.Range(0, 4).Select(k => Math.Exp(p.Scores[row * 4 + k])).ToArray();
            for (int k = 0; k < 4; k++)
                expected[row * 4 + k] = (e[k] / e.Sum() - ((k == (int)p.Labels[row] ? 0.8 : 0) + 0.2 / 4)) / 3;
        }
        Tolerance.AssertClose(F(expected), r.InputGradients[0]!.Floats, Tolerance.Op, "dscores");
    }

    [Theory]
    [InlineData("none")]
    [InlineData("mean")]
    public void Out_of_range_labels_give_nan_loss_and_gradient_rows_without_touching_others(string reduction)
    {
        // C = 5; rows 1..4 hold 5 (= C), -3, 2.5 and NaN; ignore_index -1 is not among them.
        var labels = new[] { 4f, 5f, -3f, 2.5f, float.NaN, 0f, 3f };
        var p = new Ce([7, 5], Reference.Random(35, 3, -2, 2), labels, null, -1, 0.1f, reduction);
        var dy = Reference.Random((int)p.LossShape.ElementCount, 4, 0.5f, 1.5f);
        var initial = Reference.Random(35, 5);
        var r = BackwardRunner.Run(Device, p.Node(), p.Inputs(), [HostTensor.FromFloats(p.LossShape, dy)], [true],
            initialGradients: [HostTensor.FromFloats([7, 5], initial)]);
        var loss = r.Outputs[0].Floats!;
        var grad = r.InputGradients[0]!.Floats!;
        // The valid rows as if the bad ones were absent (mean divides by the valid rows only).
        var expectedLoss = CeForward(p, D(p.Scores));
        var expectedGrad = CeBackward(p, D(p.Scores), D(dy));
        if (reduction == "none")
            for (int row = 0; row < 7; row++)
                Assert.True(p.Bad(row) ? float.IsNaN(loss[row])
                    : Math.Abs(loss[row] - expectedLoss[row]) <= 1e-4 * Math.Max(1, Math.Abs(expectedLoss[row])),
                    $"loss[{row}] = {loss[row]}");
        else
            Assert.True(float.IsNaN(loss[0]), $"mean loss with bad labels is {loss[0]}, not NaN");
        for (int i = 0; i < 35; i++)
        {
            if (p.Bad(i / 5)) Assert.True(float.IsNaN(grad[i]), $"dscores[{i}] of a bad row is {grad[i]}");
            else Assert.True(Math.Abs(grad[i] - (expectedGrad[i] + initial[i])) <= 1e-4,
                $"dscores[{i}]: {grad[i]} vs {expectedGrad[i] + initial[i]}");
        }
    }

    [Fact]
    public void Int64_constant_labels_and_all_ignored_rows()
    {
        var scores = Reference.Random(12, 8);
        var node = new Node("SoftmaxCrossEntropyLoss", "sce1", ["s", "l"], ["loss"], Attrs(("reduction", "sum"), ("ignore_index", 1)));
        var inputs = new NodeInput?[] { new(HostTensor.FromFloats([4, 3], scores)), new(HostTensor.FromInts([4], [2, 0, 1, 2]), true) };
        var p = new Ce([4, 3], scores, [2, 0, 1, 2], null, 1, 0, "sum");
        var r = BackwardRunner.Run(Device, node, inputs, [HostTensor.Scalar(2f)], [true]);
        Tolerance.AssertClose(F(CeForward(p, D(scores))), r.Outputs[0].Floats, Tolerance.Op, "loss");
        Tolerance.AssertClose(F(CeBackward(p, D(scores), [2.0])), r.InputGradients[0]!.Floats, Tolerance.Op, "dscores");

        // Every row ignored: mean is 0/0 (NaN, as PyTorch) and the gradient adds nothing.
        var all = new Node("SoftmaxCrossEntropyLoss", "sce2", ["s", "l"], ["loss"], Attrs(("ignore_index", 1)));
        var none = BackwardRunner.Run(Device, all, [inputs[0], new(HostTensor.FromFloats([4], [1, 1, 1, 1]))], [HostTensor.Scalar(1f)],
            [true]);
        Assert.True(float.IsNaN(none.Outputs[0].Floats![0]));
        Assert.All(none.InputGradients[0]!.Floats!, g => Assert.Equal(0f, g));
    }

    [Fact]
    public void Losses_are_bitwise_reproducible()
    {
        var p = new Ce([37, 11], Reference.Random(37 * 11, 9, -4, 4), Labels(37, 11, 9), Reference.Random(11, 10, 0.5f, 1.5f), null, 0.1f,
            "mean");
        BackwardResult Run() => BackwardRunner.Run(Device, p.Node(), p.Inputs(), [HostTensor.Scalar(1f)], [true]);
        var (a, b) = (Run(), Run());
        Assert.Equal(a.Outputs[0].Floats, b.Outputs[0].Floats);
        Assert.Equal(a.InputGradients[0]!.Floats, b.InputGradients[0]!.Floats);
        var x = In.Random([3, 5, 7, 9], 11);
        var y = In.Random([3, 5, 7, 9], 12);
        Assert.Equal(Run1(Device, "MseLoss", null, x, y).Floats, Run1(Device, "MseLoss", null, x, y).Floats);
    }

    [Fact]
    public void Bad_cross_entropy_arguments_are_rejected_clearly()
    {
        var s = In.Random([4, 3], 1);
        var l = In.Of([4], [0, 1, 2, 0]);
        var e = Assert.Throws<GraphException>(() => Run1(Device, "SoftmaxCrossEntropyLoss", null, s, In.Of([3], [0, 1, 2])));
        Assert.Contains("softmaxcrossentropyloss0", e.Message);
        Assert.Contains("[3]", e.Message);
        Assert.Contains("[4, 3]", e.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "SoftmaxCrossEntropyLoss", Attrs(("reduction", "max")), s, l));
        Assert.Throws<GraphException>(() =>
            Run1(Device, "SoftmaxCrossEntropyLoss", Attrs((SoftmaxCrossEntropyLoss.LabelSmoothingAttribute, 1.5f)), s, l));
        Assert.Throws<GraphException>(() => Run1(Device, "SoftmaxCrossEntropyLoss", null, s, l, In.Weight([4], [1, 1, 1, 1])));
        Assert.Throws<GraphException>(() => Run1(Device, "SoftmaxCrossEntropyLoss", null, In.Random([4], 2), l));
    }

    private static double[] MseForward(double[] a, double[] b, string reduction)
    {
        var sq = a.Select((v, i) => (v - b[i]) * (v - b[i])).ToArray();
        return reduction switch { "none" => sq, "sum" => [sq.Sum()], _ => [sq.Sum() / sq.Length] };
    }

    [Theory]
    [InlineData("mean")]
    [InlineData("sum")]
    [InlineData("none")]
    public void Mse_matches_reference_for_both_inputs(string reduction)
    {
        TensorShape shape = [3, 5, 7, 9];
        int n = (int)shape.ElementCount;
        var a = Reference.Random(n, 20, -2, 2);
        var b = Reference.Random(n, 21, -2, 2);
        var outShape = reduction == "none" ? shape : new TensorShape();
        var dy = Reference.Random((int)outShape.ElementCount, 22, 0.5f, 1.5f);
        var initA = Reference.Random(n, 23);
        var initB = Reference.Random(n, 24);
        var node = new Node("MseLoss", "mse0", ["a", "b"], ["loss"], Attrs(("reduction", reduction)));
        var r = BackwardRunner.Run(Device, node, [new(HostTensor.FromFloats(shape, a)), new(HostTensor.FromFloats(shape, b))],
            [HostTensor.FromFloats(outShape, dy)], [true, true],
                initialGradients: [HostTensor.FromFloats(shape, initA), HostTensor.FromFloats(shape, initB)]);
        double[] ad = D(a), bd = D(b), dyd = D(dy);
        Assert.Equal(outShape, r.Outputs[0].Shape);
        Tolerance.AssertClose(F(MseForward(ad, bd, reduction)), r.Outputs[0].Floats, Tolerance.Op, "loss");
        double S(int i) => reduction switch { "none" => dyd[i], "sum" => dyd[0], _ => dyd[0] / n };
        var da = ad.Select((v, i) => 2 * (v - bd[i]) * S(i)).ToArray();
        Tolerance.AssertClose(F(da.Select((g, i) => g + initA[i])), r.InputGradients[0]!.Floats, Tolerance.Op, "initial + dA");
        Tolerance.AssertClose(F(da.Select((g, i) => -g + initB[i])), r.InputGradients[1]!.Floats, Tolerance.Op, "initial + dB");

        // Finite differences on a slice of the inputs (the loss is quadratic: central differences are exact up to rounding).
        var pick = Enumerable.Range(0, n).Where(i => i % 41 == 0).ToArray();
        var fa = NumericGradient(v =>
            {
                var x = (double[])ad.Clone();
                for (int j = 0; j < pick.Length; j++) x[pick[j]] = v[j];
                return Dot(dyd, MseForward(x, bd, reduction));
            }, pick.Select(i => ad[i]).ToArray(), 1e-4);
        var fb = NumericGradient(v =>
            {
                var x = (double[])bd.Clone();
                for (int j = 0; j < pick.Length; j++) x[pick[j]] = v[j];
                return Dot(dyd, MseForward(ad, x, reduction));
            }, pick.Select(i => bd[i]).ToArray(), 1e-4);
        AssertNear(fa, pick.Select(i => da[i]).ToArray(), "dA");
        AssertNear(fb, pick.Select(i => -da[i]).ToArray(), "dB");

        // Only one input wanted.
        var onlyB = BackwardRunner.Run(Device, node, [new(HostTensor.FromFloats(shape, a)), new(HostTensor.FromFloats(shape, b))],
            [HostTensor.FromFloats(outShape, dy)], [false, true]);
        Assert.Null(onlyB.InputGradients[0]);
        Tolerance.AssertClose(F(da.Select(g => -g)), onlyB.InputGradients[1]!.Floats, Tolerance.Op, "dB alone");
    }

    [Fact]
    public void Bad_mse_arguments_are_rejected_clearly()
    {
        var e = Assert.Throws<GraphException>(() => Run1(Device, "MseLoss", null, In.Random([2, 3], 1), In.Random([3, 2], 2)));
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[3, 2]", e.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "MseLoss", Attrs(("reduction", "avg")), In.Random([2], 1), In.Random([2], 2)));
    }
}
