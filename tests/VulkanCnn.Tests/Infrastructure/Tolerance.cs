namespace VulkanCnn.Tests.Infrastructure;

/// <summary>
/// The suite's tolerances, in one place. Errors are measured as max |gpu − ref| against
/// <c>scale = max(1, max |ref|)</c>.
/// </summary>
public static class Tolerance
{
    /// <summary>Per-operator parity: |gpu − ref| ≤ 1e-4 · max(1, max|ref|).</summary>
    public const double Op = 1e-4;

    /// <summary>Winograd F(2x2, 3x3) convolutions: its transforms (±1, ½) are exact in binary, so the op bound holds.</summary>
    public const double WinogradF2 = 1e-4;

    /// <summary>Winograd F(4x4, 3x3) convolutions: transforms scaling by up to 8 and 1/24 cost about two bits; measured
    /// ≤ 6.9e-6 on ResNet-18's 3x3 layers (ConvWinogradTests), stated with margin for other data.</summary>
    public const double WinogradF4 = 5e-4;

    /// <summary>fp16 storage, against a reference computed on the same half-rounded inputs: two half ulps at max|ref|
    /// (2^-9 ≈ 1.95e-3): one for rounding the stored output (drivers may convert toward zero), one for a stored intermediate
    /// (Winograd's transformed tiles, a packed operand, a reduction's partials); fp32 arithmetic adds far less.</summary>
    public const double Fp16Storage = 2e-3;

    /// <summary>Whole networks stored in fp16 against the double reference on float weights and input: every layer adds at most
    /// <see cref="Fp16Storage"/> relative (weights, input and outputs rounded), with independent signs, so about √L × 2e-3 for
    /// L ≈ 20 layers (≈ 9e-3); stated as 1e-2 · max(1, max|ref|). Measured 6.7e-5 (ResNet-18) and 3.7e-5 (MobileNetV2) on the
    /// tests' untrained 64x64 networks, whose outputs are small.</summary>
    public const double Fp16Network = 1e-2;

    /// <summary>The bound a Conv variant is held to.</summary>
    public static double ForConvVariant(string variant) => variant switch
    {
        "winograd_f2x3" => WinogradF2,
        "winograd_f4x3" => WinogradF4,
        _ => Op,
    };

    /// <summary>Whole networks: |gpu − ref| ≤ 1e-3 · max(1, max|ref|).</summary>
    public const double Network = 1e-3;

    /// <summary>Asserts the scaled error bound, naming the worst element.</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what = "output")
    {
        Assert.True(expected.Length == actual.Length, $"{what}: expected {expected.Length} values, got {actual.Length}");
        double scale = 1;
        foreach (float e in expected) scale = Math.Max(scale, Math.Abs(e));
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs((double)expected[i] - actual[i]);
            if (double.IsNaN(d) || d > worst) { worst = double.IsNaN(d) ? double.PositiveInfinity : d; worstAt = i; }
        }
        Assert.True(worst <= tolerance * scale,
            $"{what}: |gpu − ref| = {worst:E3} at [{worstAt}] (expected {(worstAt >= 0 ? expected[worstAt] : 0)}, got " +
                $"{(worstAt >= 0 ? actual[worstAt] : 0)}) exceeds {tolerance:E0} × {scale:G4}");
    }
}
