namespace VulkanCnn.Tests.Infrastructure;

/// <summary>Naive CPU references the GPU kernels are checked against, and comparison helpers.</summary>
public static class Reference
{
    public static float[] Random(int count, int seed, float low = -1, float high = 1)
    {
        var rng = new Random(seed);
        var r = new float[count];
        for (int i = 0; i < count; i++) r[i] = low + rng.NextSingle() * (high - low);
        return r;
    }

    /// <summary>Each value rounded to the nearest IEEE half (ties to even), as fp16 storage holds it.</summary>
    public static float[] RoundToHalf(float[] values) => values.Select(v => (float)(Half)v).ToArray();

    public static float[] Add(float[] a, float[] b) => a.Zip(b, (x, y) => x + y).ToArray();
    public static float[] Mul(float[] a, float[] b) => a.Zip(b, (x, y) => x * y).ToArray();
    public static float[] Relu(float[] a) => a.Select(x => Math.Max(x, 0f)).ToArray();

    public static float[] MatMul(float[] a, float[] b, int m, int k, int n)
    {
        var c = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double)a[i * k + p] * b[p * n + j];
                c[i * n + j] = (float)s;
            }
        return c;
    }

    /// <summary>Asserts |actual − expected| ≤ atol + rtol·|expected| everywhere, naming the first bad index.</summary>
    public static void AssertClose(float[] expected, float[] actual, double atol = 1e-6, double rtol = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs(expected[i] - actual[i]);
            if (!(diff <= atol + rtol * Math.Abs(expected[i])))
                Assert.Fail($"Element {i}: expected {expected[i]}, got {actual[i]} (|diff| {diff:E2}).");
        }
    }
}
