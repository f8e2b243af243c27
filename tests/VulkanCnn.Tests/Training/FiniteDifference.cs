namespace VulkanCnn.Tests.Training;

/// <summary>
/// Central finite differences in double precision: the check of every CPU reference backward.
/// For a forward f: R^n → R^m and output weights g (the upstream gradient dL/dy), the numerical
/// gradient of L(x) = Σ_i g_i · f(x)_i is (L(x + ε e_j) − L(x − ε e_j)) / 2ε per coordinate j.
/// Pack every differentiable input (X, W, B …) into one vector and unpack it in the forward.
/// </summary>
public static class FiniteDifference
{
    public static double[] Gradient(Func<double[], double[]> forward, double[] x, double[] outputWeights, double eps = 1e-6)
    {
        var probe = (double[])x.Clone();
        var grad = new double[x.Length];
        for (int j = 0; j < x.Length; j++)
        {
            probe[j] = x[j] + eps;
            double plus = Dot(forward(probe), outputWeights);
            probe[j] = x[j] - eps;
            double minus = Dot(forward(probe), outputWeights);
            probe[j] = x[j];
            grad[j] = (plus - minus) / (2 * eps);
        }
        return grad;
    }

    /// <summary>Central differences of a scalar loss L(x): (L(x + ε e_j) − L(x − ε e_j)) / 2ε per coordinate.</summary>
    public static double[] Gradient(Func<double[], double> loss, double[] x, double eps = 1e-6) =>
        Gradient(v => [loss(v)], x, [1.0], eps);

    /// <summary>Central differences (eps 1e-6) of a scalar loss of several inputs, asserted against analytic
    /// gradients to 1e-6 · max(1, |analytic|) element by element.</summary>
    public static void AssertMatches(Func<double[][], double> loss, double[][] x, double[][] analytic)
    {
        const double eps = 1e-6, tolerance = 1e-6;
        for (int k = 0; k < x.Length; k++)
            for (int i = 0; i < x[k].Length; i++)
            {
                double saved = x[k][i];
                x[k][i] = saved + eps;
                double up = loss(x);
                x[k][i] = saved - eps;
                double down = loss(x);
                x[k][i] = saved;
                double fd = (up - down) / (2 * eps);
                Assert.True(Math.Abs(fd - analytic[k][i]) <= tolerance * Math.Max(1, Math.Abs(analytic[k][i])),
                    $"input {k} element {i} (x = {saved}): finite difference {fd:R}, analytic {analytic[k][i]:R}");
            }
    }

    /// <summary>Asserts |analytic − numeric| ≤ tolerance · max(1, max|numeric|), naming the worst coordinate.</summary>
    public static void AssertClose(double[] numeric, double[] analytic, double tolerance = 1e-6, string what = "gradient")
    {
        Assert.True(numeric.Length == analytic.Length, $"{what}: {numeric.Length} numerical vs {analytic.Length} analytic values");
        double scale = Math.Max(1, numeric.Select(Math.Abs).DefaultIfEmpty(0).Max()), worst = 0;
        int at = -1;
        for (int i = 0; i < numeric.Length; i++)
        {
            double d = Math.Abs(numeric[i] - analytic[i]);
            if (double.IsNaN(d) || d > worst) { worst = double.IsNaN(d) ? double.PositiveInfinity : d; at = i; }
        }
        Assert.True(worst <= tolerance * scale,
            $"{what}: |analytic − numeric| = {worst:E3} at [{at}] (numeric {(at >= 0 ? numeric[at] : 0)}, analytic " +
                $"{(at >= 0 ? analytic[at] : 0)}) exceeds {tolerance:E0} × {scale:G4}");
    }

    private static double Dot(double[] a, double[] b)
    {
        Assert.Equal(b.Length, a.Length);
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
