using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Training;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Training;

/// <summary>Optimizer shaders against CPU implementations of the same (PyTorch) formulas, over several steps.</summary>
public sealed class OptimizerTests(GpuFixture gpu) : GpuTest(gpu)
{
    private const int N = 37; // not a multiple of 4 or of the workgroup

    private static double[] D(float[] x) => x.Select(v => (double)v).ToArray();

    private (TrainableParameter P, Tensor W, Tensor G, float[] W0) Parameter(int seed, double lrScale = 1)
    {
        var w0 = Reference.Random(N, seed);
        var w = Tensor.FromData(Device, [N], w0, "w");
        var g = Tensor.Create(Device, [N], "w.grad");
        return (new TrainableParameter("w", w, g) { LearningRateScale = lrScale }, w, g, w0);
    }

    private static float[][] Gradients(int steps, int seed) =>
        Enumerable.Range(0, steps).Select(s => Reference.Random(N, seed + s, -2, 2)).ToArray();

    private void Train(Optimizer optimizer, Tensor grad, float[][] gradients, Func<long, double> lr)
    {
        using var rec = new CommandRecording(Device, "step");
        optimizer.Record(rec);
        rec.Finish();
        for (int s = 0; s < gradients.Length; s++)
        {
            grad.Upload(gradients[s]);
            optimizer.PrepareStep(lr(s));
            rec.Run();
        }
    }

    [Theory]
    [InlineData(0.0, false, 0.0, 1.0)]
    [InlineData(0.9, false, 0.0, 1.0)]
    [InlineData(0.9, true, 1e-2, 1.0)]
    [InlineData(0.9, false, 1e-2, 0.25)]   // a parameter group with a quarter of the learning rate
    public void Sgd_matches_the_reference(double momentum, bool nesterov, double weightDecay, double lrScale)
    {
        var (p, w, g, w0) = Parameter(1, lrScale);
        using (w) using (g)
        using (var sgd = new Sgd(Device, [p], 0.1, momentum, nesterov, weightDecay))
        {
            var grads = Gradients(5, 10);
            Train(sgd, g, grads, s => 0.1 * (1 + s));
            double[] x = D(w0), buf = new double[N];
            for (int s = 0; s < grads.Length; s++)
                for (int i = 0; i < N; i++)
                {
                    double gi = grads[s][i] + weightDecay * x[i];
                    if (momentum > 0) { buf[i] = momentum * buf[i] + gi; gi = nesterov ? gi + momentum * buf[i] : buf[i]; }
                    x[i] -= 0.1 * (1 + s) * lrScale * gi;
                }
            Tolerance.AssertClose(x.Select(v => (float)v).ToArray(), w.ToArray(), Tolerance.Op);
            Assert.Equal(momentum > 0, sgd.State.ContainsKey("w.momentum_buffer"));
        }
    }

    [Theory]
    [InlineData(0.0, false, 1.0)]
    [InlineData(0.05, false, 1.0)]
    [InlineData(0.05, true, 1.0)]
    [InlineData(0.05, true, 0.1)]   // a parameter group with a tenth of the learning rate (and of the decoupled decay)
    public void Adam_and_AdamW_match_the_reference(double weightDecay, bool decoupled, double lrScale)
    {
        var (p, w, g, w0) = Parameter(2, lrScale);
        using (w) using (g)
        using (var adam = new Adam(Device, [p], 1e-2, 0.9, 0.999, 1e-8, weightDecay, decoupled))
        {
            var grads = Gradients(6, 20);
            Train(adam, g, grads, _ => 1e-2);
            double[] x = D(w0), m = new double[N], v = new double[N];
            for (int s = 0; s < grads.Length; s++)
            {
                int t = s + 1;
                for (int i = 0; i < N; i++)
                {
                    double gi = grads[s][i];
                    if (decoupled) x[i] *= 1 - 1e-2 * lrScale * weightDecay; else gi += weightDecay * x[i];
                    m[i] = 0.9 * m[i] + 0.1 * gi;
                    v[i] = 0.999 * v[i] + 0.001 * gi * gi;
                    x[i] -= 1e-2 * lrScale * (m[i] / (1 - Math.Pow(0.9, t))) / (Math.Sqrt(v[i] / (1 - Math.Pow(0.999, t))) + 1e-8);
                }
            }
            Tolerance.AssertClose(x.Select(q => (float)q).ToArray(), w.ToArray(), Tolerance.Op);
            Assert.Equal(6, adam.Step);
        }
    }

    [Fact]
    public void Clipping_by_global_norm_scales_every_gradient_alike()
    {
        var (p1, w1, g1, a0) = Parameter(3);
        var b0 = Reference.Random(2500, 4); // spans several 1024-value chunks
        using var w2 = Tensor.FromData(Device, [2500], b0, "b");
        using var g2 = Tensor.Create(Device, [2500], "b.grad");
        using (w1) using (g1)
        using (var sgd = new Sgd(Device, [p1, new TrainableParameter("b", w2, g2)], 0.5, maxGradNorm: 1.0))
        {
            var ga = Reference.Random(N, 5, -3, 3);
            var gb = Reference.Random(2500, 6, -3, 3);
            g1.Upload(ga);
            g2.Upload(gb);
            using var rec = new CommandRecording(Device, "clip");
            sgd.Record(rec);
            rec.Finish();
            sgd.PrepareStep(0.5);
            rec.Run();
            double norm = Math.Sqrt(ga.Concat(gb).Sum(v => (double)v * v));
            double scale = Math.Min(1, 1.0 / (norm + 1e-6));
            Assert.Equal(norm, sgd.LastGradientNorm, 3);
            Tolerance.AssertClose(a0.Select((v, i) => (float)(v - 0.5 * scale * ga[i])).ToArray(), w1.ToArray(), Tolerance.Op);
            Tolerance.AssertClose(b0.Select((v, i) => (float)(v - 0.5 * scale * gb[i])).ToArray(), w2.ToArray(), Tolerance.Op);
        }
    }

    [Fact]
    public void Schedules_follow_their_formulas()
    {
        Assert.Equal(0.01, new StepSchedule(10, 0.1).LearningRate(1.0, 25), 12);
        Assert.Equal(1.0, new CosineSchedule(100).Factor(0), 12);
        Assert.Equal(0.5, new CosineSchedule(100).Factor(50), 12);
        Assert.Equal(0.0, new CosineSchedule(100).Factor(100), 12);
        Assert.Equal(0.5, new WarmupSchedule(10, LearningRateSchedule.Constant).Factor(5), 12);
        Assert.Equal(1.0, new WarmupSchedule(10, LearningRateSchedule.Constant).Factor(10), 12);
        var one = new OneCycleSchedule(100);
        Assert.Equal(1 / 25.0, one.Factor(0), 12);
        Assert.Equal(1.0, one.Factor(30), 12);
        Assert.Equal(1 / 25.0 / 1e4, one.Factor(100), 12);
    }
}
