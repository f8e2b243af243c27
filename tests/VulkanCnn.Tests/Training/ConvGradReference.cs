using VulkanCnn.Tests.Infrastructure;

namespace VulkanCnn.Tests.Training;

/// <summary>What the shared double-precision reference needs of a Conv or ConvTranspose training problem.</summary>
internal interface IConvGradCase
{
    int M { get; }
    int OH { get; }
    int OW { get; }
    int XCount { get; }
    int WCount { get; }
    int YCount { get; }
    bool Bias { get; }
    string? Act { get; }
    float Alpha { get; }
    float Beta { get; }

    /// <summary>Visits every (x, w, z) index triple the layer multiplies: the forward and its adjoint share it.</summary>
    void Taps(Action<int, int, int> visit);
}

/// <summary>
/// The double-precision CPU reference of a Conv-family layer with bias and a fused activation, written over
/// its taps: forward, backward (its adjoint) and the finite-difference check of that backward.
/// </summary>
internal static class ConvGradReference
{
    /// <summary>Float-representable inputs (so the GPU and the reference see the same values) and an upstream gradient.</summary>
    public static (double[] X, double[] W, double[]? B, double[] Dy) Data(IConvGradCase c, int seed) => (
        ActivationReference.ToDouble(Reference.Random(c.XCount, seed)),
        ActivationReference.ToDouble(Reference.Random(c.WCount, seed + 1, -0.5f, 0.5f)),
        c.Bias ? ActivationReference.ToDouble(Reference.Random(c.M, seed + 2, -0.3f, 0.3f)) : null,
        ActivationReference.ToDouble(Reference.Random(c.YCount, seed + 3)));

    private static double[] PreActivation(IConvGradCase c, double[] x, double[] w, double[]? b)
    {
        var z = new double[c.YCount];
        for (int i = 0; i < z.Length; i++) z[i] = b?[i / (c.OH * c.OW) % c.M] ?? 0;
        c.Taps((xi, wi, zi) => z[zi] += x[xi] * w[wi]);
        return z;
    }

    public static double[] Forward(IConvGradCase c, double[] x, double[] w, double[]? b) =>
        PreActivation(c, x, w, b).Select(z => ActivationReference.Apply(c.Act, z, c.Alpha, c.Beta)).ToArray();

    /// <summary>The adjoint of <see cref="Forward"/>: dz = dy · act'(z), then dX, dW, dB by scattering over the same taps.</summary>
    public static (double[] Dx, double[] Dw, double[]? Db) Backward(IConvGradCase c, double[] x, double[] w, double[]? b, double[] dy)
    {
        var dz = PreActivation(c, x, w, b).Select((v, i) => dy[i] * ActivationReference.Derivative(c.Act, v, c.Alpha, c.Beta)).ToArray();
        var (dx, dw) = (new double[c.XCount], new double[c.WCount]);
        c.Taps((xi, wi, zi) => { dx[xi] += dz[zi] * w[wi]; dw[wi] += dz[zi] * x[xi]; });
        double[]? db = null;
        if (b is not null)
        {
            db = new double[c.M];
            for (int i = 0; i < dz.Length; i++) db[i / (c.OH * c.OW) % c.M] += dz[i];
        }
        return (dx, dw, db);
    }

    /// <summary>A GPU forward and backward run of the case (output 0, then the gradients of X, W and, with a bias, B) against this
    /// reference, within the op bound.</summary>
    public static void AssertMatches(IConvGradCase c, double[] x, double[] w, double[]? b, double[] dy, VulkanCnn.Training.BackwardResult r,
        string name)
    {
        var (dx, dw, db) = Backward(c, x, w, b, dy);
        Tolerance.AssertClose(ActivationReference.ToFloat(Forward(c, x, w, b)), r.Outputs[0].Floats, Tolerance.Op, name + " forward");
        Tolerance.AssertClose(ActivationReference.ToFloat(dx), r.InputGradients[0]!.Floats, Tolerance.Op, name + " dX");
        Tolerance.AssertClose(ActivationReference.ToFloat(dw), r.InputGradients[1]!.Floats, Tolerance.Op, name + " dW");
        if (db is not null) Tolerance.AssertClose(ActivationReference.ToFloat(db), r.InputGradients[2]!.Floats, Tolerance.Op, name + " dB");
    }

    /// <summary>Checks <see cref="Backward"/> against central finite differences of <see cref="Forward"/> over X, W and B.</summary>
    public static void AssertBackwardMatchesFiniteDifferences(IConvGradCase c, int seed, string name)
    {
        var (x, w, b, dy) = Data(c, seed);
        var (dx, dw, db) = Backward(c, x, w, b, dy);
        double[] theta = [.. x, .. w, .. b ?? []];
        var numeric = FiniteDifference.Gradient(t =>
            Forward(c, t[..c.XCount], t[c.XCount..(c.XCount + c.WCount)], b is null ? null : t[(c.XCount + c.WCount)..]), theta, dy);
        FiniteDifference.AssertClose(numeric, [.. dx, .. dw, .. db ?? []], 1e-6, name);
    }
}
