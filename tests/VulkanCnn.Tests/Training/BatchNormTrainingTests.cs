using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Training;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Training;

/// <summary>
/// BatchNormalization in training mode (batch statistics, running-statistic update, backward
/// through the statistics) and eval-mode backward, against double CPU references that are
/// themselves checked with central finite differences.
/// </summary>
public sealed class BatchNormTrainingTests(GpuFixture gpu) : GpuTest(gpu)
{
    private const double Eps = 1e-3, Momentum = 0.8;

    private sealed record Stats(double[] Mean, double[] Var);

    /// <summary>Per-channel mean and biased variance over N and the spatial axes.</summary>
    private static Stats BatchStats(double[] x, int n, int c)
    {
        int inner = x.Length / n / c, m = n * inner;
        var mean = new double[c];
        var variance = new double[c];
        for (int ch = 0; ch < c; ch++)
        {
            double s = 0;
            for (int b = 0; b < n; b++) for (int j = 0; j < inner; j++) s += x[(b * c + ch) * inner + j];
            mean[ch] = s / m;
            double q = 0;
            for (int b = 0; b < n; b++) for (int j = 0; j < inner; j++) q += Math.Pow(x[(b * c + ch) * inner + j] - mean[ch], 2);
            variance[ch] = q / m;
        }
        return new(mean, variance);
    }

    /// <summary>y = act((x − mean) / sqrt(var + eps) · gamma + beta) with the given statistics.</summary>
    private static double[] Normalize(double[] x, int n, int c, Stats s, double[] gamma, double[] beta, bool relu)
    {
        int inner = x.Length / n / c;
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int ch = i / inner % c;
            double v = (x[i] - s.Mean[ch]) / Math.Sqrt(s.Var[ch] + Eps) * gamma[ch] + beta[ch];
            y[i] = relu ? Math.Max(v, 0) : v;
        }
        return y;
    }

    /// <summary>
    /// Backward by the textbook chain rule through x̂, var and mean (training), or through the
    /// fixed affine map (eval). Returns dX, dgamma, dbeta.
    /// </summary>
    private static (double[] Dx, double[] Dgamma, double[] Dbeta) Backward(double[] x, double[] dy, int n, int c, double[] gamma,
        double[] beta,
        bool relu, bool training, Stats? running = null)
    {
        int inner = x.Length / n / c, m = n * inner;
        var s = training ? BatchStats(x, n, c) : running!;
        var y = Normalize(x, n, c, s, gamma, beta, relu);
        var dx = new double[x.Length];
        var dgamma = new double[c];
        var dbeta = new double[c];
        for (int ch = 0; ch < c; ch++)
        {
            double invstd = 1 / Math.Sqrt(s.Var[ch] + Eps), dvar = 0, dmean = 0, sumDev = 0;
            IEnumerable<int> Indices()
            {
                for (int b = 0; b < n; b++)
                    for (int j = 0; j < inner; j++) yield return (b * c + ch) * inner + j;
            }
            double G(int i) => relu && !(y[i] > 0) ? 0 : dy[i];
            foreach (int i in Indices())
            {
                double xhat = (x[i] - s.Mean[ch]) * invstd;
                dgamma[ch] += G(i) * xhat;
                dbeta[ch] += G(i);
                dvar += G(i) * gamma[ch] * (x[i] - s.Mean[ch]) * -0.5 * Math.Pow(s.Var[ch] + Eps, -1.5);
                dmean += -G(i) * gamma[ch] * invstd;
                sumDev += -2 * (x[i] - s.Mean[ch]);
            }
            dmean += dvar * sumDev / m;
            foreach (int i in Indices())
                dx[i] = G(i) * gamma[ch] * invstd + (training ? dvar * 2 * (x[i] - s.Mean[ch]) / m + dmean / m : 0);
        }
        return (dx, dgamma, dbeta);
    }

    private static double[] NumericGradient(Func<double[], double> f, double[] x, double eps = 1e-6) =>
        FiniteDifference.Gradient(f, x, eps);

    private static void AssertNear(double[] numeric, double[] analytic, string what)
    {
        for (int i = 0; i < numeric.Length; i++)
            Assert.True(Math.Abs(numeric[i] - analytic[i]) <= 1e-5 * Math.Max(1, Math.Abs(numeric[i])),
                $"{what}[{i}]: finite difference {numeric[i]}, analytic {analytic[i]}");
    }

    private static double Dot(double[] a, double[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }
    private static double[] D(float[] v) => v.Select(f => (double)f).ToArray();
    private static float[] F(IEnumerable<double> v) => v.Select(d => (float)d).ToArray();
    private static float[] Plus(double[] g, float[] initial) => F(g.Select((v, i) => v + initial[i]));

    private static Node BnNode(bool relu, int outputs = 1, Action<Attributes>? more = null)
    {
        var a = Attrs(("epsilon", (float)Eps), ("momentum", (float)Momentum));
        if (relu) new FusedActivation(ActivationKind.Relu).WriteTo(a);
        more?.Invoke(a);
        string[] outs = outputs == 3 ? ["y", "running_mean", "running_var"] : ["y"];
        return new Node("BatchNormalization", "bn0", ["x", "scale", "B", "mean", "var"], outs, a);
    }

    private sealed record Case(int[] Shape, float[] X, float[] Gamma, float[] Beta, float[] Mean, float[] Var, float[] Dy)
    {
        public int N => Shape[0];
        public int C => Shape[1];

        public static Case Random(int[] shape, int seed)
        {
            int count = shape.Aggregate(1, (a, b) => a * b), c = shape[1];
            return new(shape, Reference.Random(count, seed, -1.5f, 2.5f), Reference.Random(c, seed + 1, 0.5f, 1.5f),
                Reference.Random(c, seed + 2, -0.5f, 0.5f), Reference.Random(c, seed + 3, -0.3f, 0.3f),
                Reference.Random(c, seed + 4, 0.5f, 1.5f), Reference.Random(count, seed + 5));
        }

        /// <summary>The five inputs; the four parameters as runtime tensors (they change every step) unless <paramref
        /// name="constant"/>.</summary>
        public IReadOnlyList<NodeInput?> Inputs(bool constant = false) =>
        [
            new NodeInput(HostTensor.FromFloats(Shape, X)),
            new NodeInput(HostTensor.FromFloats([C], Gamma), constant), new NodeInput(HostTensor.FromFloats([C], Beta), constant),
            new NodeInput(HostTensor.FromFloats([C], Mean), constant), new NodeInput(HostTensor.FromFloats([C], Var), constant),
        ];
    }

    public static TheoryData<int[], bool> Shapes => new()
    {
        { [3, 5, 4, 3], false },    // batch 3, channels not a multiple of 4
        { [3, 5, 4, 3], true },     // fused Relu, differentiated through the saved output
        { [4, 3], false },          // N x C (one value per plane)
        { [2, 6, 9, 15], true },    // planes larger than a workgroup: the planar grid
        { [2, 5, 8, 12], false },   // planar with planes a multiple of 4: four elements per invocation
        { [2, 5, 8, 12], true },
        { [3, 7, 1, 1], false },    // 1x1 spatial
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Training_forward_and_backward_match_reference(int[] shape, bool relu)
    {
        var k = Case.Random(shape, shape.Sum() + (relu ? 100 : 0));
        var x = D(k.X);
        double[] gamma = D(k.Gamma), beta = D(k.Beta), dy = D(k.Dy);
        var initial = new[] { Reference.Random(k.X.Length, 1, -0.5f, 0.5f), Reference.Random(k.C, 2), Reference.Random(k.C, 3) };
        var r = BackwardRunner.Run(Device, BnNode(relu, outputs: 3), k.Inputs(), [HostTensor.FromFloats(shape, k.Dy)],
            [true, true, true, false, false],
            training: true, initialGradients: initial.Select((g, i) => HostTensor.FromFloats(i == 0 ? shape : [k.C], g)).ToList());

        var stats = BatchStats(x, k.N, k.C);
        Tolerance.AssertClose(F(Normalize(x, k.N, k.C, stats, gamma, beta, relu)), r.Outputs[0].Floats, Tolerance.Op, "Y");
        if (relu) Assert.Contains(0f, r.Outputs[0].Floats!);
        int m = k.X.Length / k.C;
        Tolerance.AssertClose(F(stats.Mean.Select((v, c) => k.Mean[c] * Momentum + v * (1 - Momentum))), r.Outputs[1].Floats, Tolerance.Op,
            "running_mean");
        Tolerance.AssertClose(F(stats.Var.Select((v, c) => k.Var[c] * Momentum + v * m / (m - 1) * (1 - Momentum))), r.Outputs[2].Floats,
            Tolerance.Op, "running_var");

        var (dx, dgamma, dbeta) = Backward(x, dy, k.N, k.C, gamma, beta, relu, training: true);
        Tolerance.AssertClose(Plus(dx, initial[0]), r.InputGradients[0]!.Floats, Tolerance.Op, "initial + dX");
        Tolerance.AssertClose(Plus(dgamma, initial[1]), r.InputGradients[1]!.Floats, Tolerance.Op, "initial + dscale");
        Tolerance.AssertClose(Plus(dbeta, initial[2]), r.InputGradients[2]!.Floats, Tolerance.Op, "initial + dB");

        // The reference backward is the derivative of the reference forward (batch statistics included).
        double Loss(double[] xs, double[] g, double[] b) => Dot(dy, Normalize(xs, k.N, k.C, BatchStats(xs, k.N, k.C), g, b, relu));
        AssertNear(NumericGradient(xs => Loss(xs, gamma, beta), x), dx, "dX");
        AssertNear(NumericGradient(g => Loss(x, g, beta), gamma), dgamma, "dscale");
        AssertNear(NumericGradient(b => Loss(x, gamma, b), beta), dbeta, "dB");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Eval_backward_uses_the_running_statistics(bool constantParameters)
    {
        int[] shape = [3, 5, 3, 4];
        var k = Case.Random(shape, 60);
        var x = D(k.X);
        double[] gamma = D(k.Gamma), beta = D(k.Beta), dy = D(k.Dy);
        var running = new Stats(D(k.Mean), D(k.Var));
        var initial = Reference.Random(k.C, 9);
        var r = BackwardRunner.Run(Device, BnNode(relu: true), k.Inputs(constantParameters), [HostTensor.FromFloats(shape, k.Dy)],
            [true, true, true], training: false, initialGradients: [null, HostTensor.FromFloats([k.C], initial), null]);

        Tolerance.AssertClose(F(Normalize(x, k.N, k.C, running, gamma, beta, true)), r.Outputs[0].Floats, Tolerance.Op, "Y");
        var (dx, dgamma, dbeta) = Backward(x, dy, k.N, k.C, gamma, beta, true, training: false, running);
        Tolerance.AssertClose(F(dx), r.InputGradients[0]!.Floats, Tolerance.Op, "dX");
        Tolerance.AssertClose(Plus(dgamma, initial), r.InputGradients[1]!.Floats, Tolerance.Op, "initial + dscale");
        Tolerance.AssertClose(F(dbeta), r.InputGradients[2]!.Floats, Tolerance.Op, "dB");

        double Loss(double[] xs, double[] g, double[] b) => Dot(dy, Normalize(xs, k.N, k.C, running, g, b, true));
        AssertNear(NumericGradient(xs => Loss(xs, gamma, beta), x), dx, "dX");
        AssertNear(NumericGradient(g => Loss(x, g, beta), gamma), dgamma, "dscale");
        AssertNear(NumericGradient(b => Loss(x, gamma, b), beta), dbeta, "dB");
    }

    [Fact]
    public void Running_statistics_inputs_are_updated_in_place_on_every_replay()
    {
        int[] shape = [3, 6, 2, 5];
        var k = Case.Random(shape, 70);
        using var fwd = new RecordedForward(Device, BnNode(relu: false), k.Inputs().Select(i => (HostTensor?)i!.Value).ToList(),
            training: true);
        var stats = BatchStats(D(k.X), k.N, k.C);
        int m = k.X.Length / k.C;
        double[] mean = D(k.Mean), variance = D(k.Var);
        for (int step = 1; step <= 2; step++)
        {
            fwd.Run();
            for (int c = 0; c < k.C; c++)
            {
                mean[c] = mean[c] * Momentum + stats.Mean[c] * (1 - Momentum);
                variance[c] = variance[c] * Momentum + stats.Var[c] * m / (m - 1) * (1 - Momentum);   // unbiased, as PyTorch
            }
            Tolerance.AssertClose(F(mean), fwd.Inputs[3]!.ToArray(), Tolerance.Op, $"running mean after step {step}");
            Tolerance.AssertClose(F(variance), fwd.Inputs[4]!.ToArray(), Tolerance.Op, $"running var after step {step}");
        }
        // The batch statistics normalise, whatever the running ones hold.
        Tolerance.AssertClose(F(Normalize(D(k.X), k.N, k.C, stats, D(k.Gamma), D(k.Beta), false)), fwd.Outputs[0].ToArray(), Tolerance.Op,
            "Y");
    }

    [Fact]
    public void Runs_are_bitwise_identical()
    {
        int[] shape = [3, 5, 7, 6];
        var k = Case.Random(shape, 80);
        BackwardResult Run() =>
            BackwardRunner.Run(Device, BnNode(relu: true), k.Inputs(), [HostTensor.FromFloats(shape, k.Dy)], [true, true, true]);
        var (a, b) = (Run(), Run());
        Assert.Equal(a.Outputs[0].Floats, b.Outputs[0].Floats);
        for (int i = 0; i < 3; i++) Assert.Equal(a.InputGradients[i]!.Floats, b.InputGradients[i]!.Floats);
    }

    [Fact]
    public void Onnx_training_mode_uses_batch_statistics_and_runtime_parameters_work_at_inference()
    {
        int[] shape = [2, 3, 4, 5];
        var k = Case.Random(shape, 90);
        var x = In.Of(shape, k.X);
        In P(float[] v, bool constant) => new([k.C], v, Const: constant);
        // training_mode=1 at inference: batch statistics, running inputs untouched (they may be constants).
        var y = Run1(Device, "BatchNormalization", Attrs(("epsilon", (float)Eps), ("training_mode", 1)), x, P(k.Gamma, true),
            P(k.Beta, true), P(k.Mean, true), P(k.Var, true));
        Tolerance.AssertClose(F(Normalize(D(k.X), k.N, k.C, BatchStats(D(k.X), k.N, k.C), D(k.Gamma), D(k.Beta), false)), y.Floats,
            Tolerance.Op, "training_mode=1");
        // Runtime (non-constant) parameters at inference: folded on the GPU.
        var z = Run1(Device, "BatchNormalization", Attrs(("epsilon", (float)Eps)), x, P(k.Gamma, false), P(k.Beta, false), P(k.Mean, false),
            P(k.Var, false));
        Tolerance.AssertClose(F(Normalize(D(k.X), k.N, k.C, new Stats(D(k.Mean), D(k.Var)), D(k.Gamma), D(k.Beta), false)), z.Floats,
            Tolerance.Op, "runtime parameters");
    }

    [Theory]
    [InlineData(new[] { 2, 3, 4, 5 })]
    [InlineData(new[] { 3, 5, 1, 1 })]   // 1x1 spatial, channels not a multiple of 4
    [InlineData(new[] { 2, 7, 3 })]      // rank 3
    public void Onnx_training_mode_outputs_blend_the_biased_variance_as_the_spec_does(int[] shape)
    {
        var k = Case.Random(shape, 91);
        var node = new Node("BatchNormalization", "bn", ["x", "s", "b", "m", "v"], ["y", "running_mean", "running_var"],
            Attrs(("epsilon", (float)Eps), ("momentum", (float)Momentum), ("training_mode", 1)));
        NodeInput P(float[] v) => new(HostTensor.FromFloats([k.C], v), IsConstant: true);
        var outputs = NodeRunner.Run(Device, node, [new(HostTensor.FromFloats(shape, k.X)), P(k.Gamma), P(k.Beta), P(k.Mean), P(k.Var)]);
        var stats = BatchStats(D(k.X), k.N, k.C);
        Tolerance.AssertClose(F(Normalize(D(k.X), k.N, k.C, stats, D(k.Gamma), D(k.Beta), false)), outputs[0].Floats, Tolerance.Op, "Y");
        // ONNX: running = input · momentum + batch · (1 − momentum), the batch variance biased (np.var).
        Tolerance.AssertClose(F(k.Mean.Select((v, ch) => v * Momentum + stats.Mean[ch] * (1 - Momentum)).ToArray()), outputs[1].Floats,
            Tolerance.Op, "running_mean");
        Tolerance.AssertClose(F(k.Var.Select((v, ch) => v * Momentum + stats.Var[ch] * (1 - Momentum)).ToArray()), outputs[2].Floats,
            Tolerance.Op, "running_var");
    }

    [Fact]
    public void Unsupported_training_configurations_are_refused_clearly()
    {
        var k = Case.Random([1, 3, 1, 1], 95);
        var e = Assert.Throws<GraphException>(() =>
            BackwardRunner.Run(Device, BnNode(false), k.Inputs(), [HostTensor.FromFloats([1, 3, 1, 1], k.Dy)], [true]));
        Assert.Contains("bn0", e.Message);
        Assert.Contains("more than one", e.Message);

        var k2 = Case.Random([2, 3, 2, 2], 96);
        var leaky = BnNode(false, more: a => new FusedActivation(ActivationKind.LeakyRelu, 0.1f).WriteTo(a));
        var u = Assert.Throws<UnsupportedAttributeException>(() =>
            BackwardRunner.Run(Device, leaky, k2.Inputs(), [HostTensor.FromFloats([2, 3, 2, 2], k2.Dy)], [true]));
        Assert.Contains("LeakyRelu", u.Message);

        var saved = new Node("BatchNormalization", "bn1", ["x", "s", "b", "m", "v"], ["y", "rm", "rv", "saved_mean", "saved_var"]);
        Assert.Throws<UnsupportedAttributeException>(() =>
            BackwardRunner.Run(Device, saved, k2.Inputs(), [HostTensor.FromFloats([2, 3, 2, 2], k2.Dy)], [true]));
        var evalWithOutputs = BnNode(false, outputs: 3);
        var g = Assert.Throws<GraphException>(() =>
            BackwardRunner.Run(Device, evalWithOutputs, k2.Inputs(), [HostTensor.FromFloats([2, 3, 2, 2], k2.Dy)], [true],
                training: false));
        Assert.Contains("training mode", g.Message);

        Assert.True(OperatorRegistry.TryGet("BatchNormalization", out var op));
        var d = Assert.IsAssignableFrom<IDifferentiable>(op);
        Assert.True(d.HasGradient(leaky, 2));
        Assert.False(d.HasGradient(leaky, 3));
    }
}
