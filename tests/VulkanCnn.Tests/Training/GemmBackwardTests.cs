using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Training;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Training;

/// <summary>A Gemm (2-D, transA/transB, alpha/beta, C broadcast) or MatMul (batched, broadcast) training problem.</summary>
public sealed record GemmGradCase(string Op, int[] A, int[] B, int[]? C = null, bool TransA = false, bool TransB = false,
    float Alpha = 1, float Beta = 1, string? Act = null, float ActAlpha = 0, float ActBeta = 0)
{
    public int Count(int[] dims) => dims.Aggregate(1, (x, y) => x * y);
}

/// <summary>
/// Gemm and MatMul backward (dA, dB, dC) against a double-precision CPU reference backward, which is
/// itself checked against central finite differences; accumulation into non-zero initial gradients.
/// </summary>
public sealed class GemmBackwardTests(GpuFixture gpu) : GpuTest(gpu)
{
    public static readonly Dictionary<string, GemmGradCase> Cases = new()
    {
        ["gemm_bias_n"] = new("Gemm", [5, 7], [7, 6], C: [6]),
        ["gemm_transA_full_c_relu"] = new("Gemm", [7, 5], [7, 6], C: [5, 6], TransA: true, Alpha: 0.5f, Beta: 2, Act: "Relu"),
        ["gemm_transB_row_c_vec4"] = new("Gemm", [4, 8], [8, 8], C: [1, 8], TransB: true, Alpha: 1.5f, Beta: -1),
        ["gemm_transA_transB_scalar_c_leaky"] = new("Gemm", [9, 3], [5, 9], C: [], TransA: true, TransB: true, Alpha: 2, Beta: 0.5f,
            Act: "LeakyRelu", ActAlpha: 0.1f),
        ["gemm_column_c_tanh"] = new("Gemm", [6, 4], [7, 4], C: [6, 1], TransB: true, Act: "Tanh"),
        ["gemm_linear_batch1_sigmoid"] = new("Gemm", [1, 12], [16, 12], C: [16], TransB: true, Act: "Sigmoid"),
        ["gemm_linear_batch16_relu"] = new("Gemm", [16, 12], [8, 12], C: [8], TransB: true, Act: "Relu"),   // dB through the transposed dz
        ["gemm_no_c_clip"] = new("Gemm", [5, 3], [3, 4], Act: "Clip", ActAlpha: -0.4f, ActBeta: 0.6f),
        ["matmul_shared_b"] = new("MatMul", [2, 3, 5, 4], [4, 6]),
        ["matmul_broadcast_a"] = new("MatMul", [3, 4], [2, 4, 5]),
        ["matmul_both_broadcast"] = new("MatMul", [2, 1, 3, 4], [1, 3, 4, 5]),
        ["matmul_vector_a"] = new("MatMul", [4], [2, 4, 3]),
        ["matmul_vector_b"] = new("MatMul", [2, 3, 4], [4]),
        ["matmul_batched_vec4"] = new("MatMul", [2, 5, 8], [2, 8, 4]),
        ["matmul_batched_ragged_n"] = new("MatMul", [2, 6, 8], [2, 8, 5]),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Reference_backward_matches_finite_differences(string name)
    {
        var g = Cases[name];
        var (a, b, c, dy) = Data(g, name.Length);
        var (da, db, dc) = Backward(g, a, b, c, dy);
        int na = a.Length, nb = b.Length;
        double[] theta = [.. a, .. b, .. c ?? []];
        var numeric = FiniteDifference.Gradient(t => Forward(g, t[..na], t[na..(na + nb)], c is null ? null : t[(na + nb)..]), theta, dy);
        FiniteDifference.AssertClose(numeric, [.. da, .. db, .. dc ?? []], 1e-6, name);
    }

    /// <summary>The default variant (blocked here) and the GPUs' tiled one, whose backward products are tiled too.</summary>
    public static TheoryData<string, string> CaseVariants()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in Cases.Keys)
            foreach (var variant in new[] { "blocked", "tiled" }) data.Add(name, variant);
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseVariants))]
    public void Gpu_backward_matches_reference(string name, string variant)
    {
        var g = Cases[name];
        var (a, b, c, dy) = Data(g, name.Length);
        // Non-zero starting gradients: the kernels must add to them.
        var init = new[] { a.Length, b.Length, c?.Length ?? 0 }.Select((n, i) => Reference.Random(n, 70 + i)).ToArray();
        var node = Node(g);
        node.Attributes.Set(VulkanCnn.Ops.VariantSelector.Attribute, variant);
        var r = BackwardRunner.Run(Device, node, Inputs(g, a, b, c), [HostTensor.FromFloats(OutDims(g), F(dy))],
            [true, true, c is not null], true,
            [HostTensor.FromFloats(g.A, init[0]), HostTensor.FromFloats(g.B, init[1]), c is null ? null
                : HostTensor.FromFloats(g.C!, init[2])]);
        var (da, db, dc) = Backward(g, a, b, c, dy);
        Tolerance.AssertClose(F(Forward(g, a, b, c)), r.Outputs[0].Floats, Tolerance.Op, name + " forward");
        double[][] expected = [da, db, dc ?? []];
        for (int i = 0; i < (c is null ? 2 : 3); i++)
            Tolerance.AssertClose(F(expected[i].Select((v, k) => v + init[i][k]).ToArray()), r.InputGradients[i]!.Floats, Tolerance.Op,
                $"{name} ({variant}) d{"ABC"[i]}");
    }

    [Theory]
    [InlineData("gemm_column_c_tanh")]        // transB, more than one row block: gemm_pack transposes B
    [InlineData("matmul_shared_b")]           // ragged N, batches folded into rows: gemm_pack pads B
    [InlineData("matmul_batched_ragged_n")]   // one packed B per batch
    public void Runtime_b_gives_the_constant_b_result(string name)
    {
        var g = Cases[name];
        var (a, b, c, _) = Data(g, 8);
        var attrs = Node(g).Attributes;
        HostTensor Y(bool constant) =>
            Run1(Device, g.Op, attrs, In.Of(g.A, F(a)), new In(g.B, F(b), Const: constant), c is null ? null : In.Of(g.C!, F(c)));
        var runtime = Y(false);
        Tolerance.AssertClose(F(Forward(g, a, b, c)), runtime.Floats, Tolerance.Op, name);
        Assert.Equal(Y(true).Floats, runtime.Floats);
    }

    [Fact]
    public void Beta_zero_leaves_the_c_gradient_alone_and_runs_repeat_bit_for_bit()
    {
        var g = Cases["gemm_transA_full_c_relu"] with { Beta = 0 };
        var (a, b, c, dy) = Data(g, 3);
        var init = Reference.Random(c!.Length, 5);
        BackwardResult Run() =>
            BackwardRunner.Run(Device, Node(g), Inputs(g, a, b, c), [HostTensor.FromFloats(OutDims(g), F(dy))], [true, true, true], true,
            [null, null, HostTensor.FromFloats(g.C!, init)]);
        var (r1, r2) = (Run(), Run());
        Assert.Equal(init, r1.InputGradients[2]!.Floats);
        Tolerance.AssertClose(F(Backward(g, a, b, c, dy).Da), r1.InputGradients[0]!.Floats, Tolerance.Op, "dA");
        Assert.Equal(r1.InputGradients[0]!.Floats, r2.InputGradients[0]!.Floats);
        Assert.Equal(r1.InputGradients[1]!.Floats, r2.InputGradients[1]!.Floats);
    }

    [Fact]
    public void Backward_through_an_unsupported_activation_is_refused()
    {
        var g = Cases["gemm_bias_n"] with { Act = "HardSigmoid", ActAlpha = 0.2f, ActBeta = 0.5f };
        var (a, b, c, dy) = Data(g, 1);
        var e = Assert.Throws<VulkanCnn.Ops.UnsupportedAttributeException>(() =>
            BackwardRunner.Run(Device, Node(g), Inputs(g, a, b, c), [HostTensor.FromFloats(OutDims(g), F(dy))], [true, false, false]));
        Assert.Contains("gemm0", e.Message);
        Assert.Contains("HardSigmoid", e.Message);
    }

    private static Node Node(GemmGradCase g)
    {
        var attrs = g.Op == "Gemm" ? Attrs(("transA", g.TransA ? 1 : 0), ("transB", g.TransB ? 1 : 0), ("alpha", g.Alpha), ("beta", g.Beta))
            : new Attributes();
        ActivationReference.Set(attrs, g.Act, g.ActAlpha, g.ActBeta);
        return new Node(g.Op, g.Op.ToLowerInvariant() + "0", g.C is null ? ["a", "b"] : ["a", "b", "c"], ["y"], attrs);
    }

    /// <summary>Runtime (non-constant) operands, as in training.</summary>
    private static List<NodeInput?> Inputs(GemmGradCase g, double[] a, double[] b, double[]? c) =>
    [
        new(HostTensor.FromFloats(g.A, F(a))),
        new(HostTensor.FromFloats(g.B, F(b))),
        .. c is null ? Array.Empty<NodeInput?>() : [new(HostTensor.FromFloats(g.C!, F(c)))],
    ];

    private static (double[] A, double[] B, double[]? C, double[] Dy) Data(GemmGradCase g, int seed) => (
        ActivationReference.ToDouble(Reference.Random(g.Count(g.A), seed)),
        ActivationReference.ToDouble(Reference.Random(g.Count(g.B), seed + 1)),
        g.C is null ? null : ActivationReference.ToDouble(Reference.Random(g.Count(g.C), seed + 2)),
        ActivationReference.ToDouble(Reference.Random(g.Count(OutDims(g)), seed + 3)));

    private static float[] F(double[] v) => ActivationReference.ToFloat(v);

    /// <summary>Problem sizes and output dims: Gemm per the ONNX spec, MatMul with NumPy promotion and batch broadcasting.</summary>
    private static (int M, int K, int N, int[] Batch) Sizes(GemmGradCase g)
    {
        if (g.Op == "Gemm")
            return (g.TransA ? g.A[1] : g.A[0], g.TransA ? g.A[0] : g.A[1], g.TransB ? g.B[0] : g.B[1], []);
        int[] a = g.A.Length == 1 ? [1, g.A[0]] : g.A, b = g.B.Length == 1 ? [g.B[0], 1] : g.B;
        int rank = Math.Max(a.Length, b.Length) - 2;
        var batch = new int[rank];
        for (int d = 0; d < rank; d++)
            batch[d] = Math.Max(Dim(a, d, rank), Dim(b, d, rank));
        return (a[^2], a[^1], b[^1], batch);
    }

    /// <summary>Batch axis d (of <paramref name="rank"/>, right-aligned) of an operand, 1 where it has none.</summary>
    private static int Dim(int[] dims, int d, int rank) => d - (rank - (dims.Length - 2)) is var i && i >= 0 ? dims[i] : 1;

    private static int[] OutDims(GemmGradCase g)
    {
        var (m, _, n, batch) = Sizes(g);
        if (g.Op == "Gemm") return [m, n];
        return [.. batch, .. g.A.Length > 1 ? new[] { m } : [], .. g.B.Length > 1 ? new[] { n } : []];
    }

    /// <summary>Visits every product term: (A index, B index, y index), alpha applied by the caller.</summary>
    private static void Terms(GemmGradCase g, Action<int, int, int> visit)
    {
        var (m, k, n, batch) = Sizes(g);
        int[] a = g.A.Length == 1 ? [1, g.A[0]] : g.A, b = g.B.Length == 1 ? [g.B[0], 1] : g.B;
        int rank = batch.Length, batches = batch.Aggregate(1, (x, y) => x * y);
        for (int t = 0; t < batches; t++)
        {
            // Batch coordinates of t, then the (broadcast) batch of A and of B.
            int rest = t, ta = 0, tb = 0, sa = 1, sb = 1;
            for (int d = rank - 1; d >= 0; d--)
            {
                int coord = rest % batch[d];
                rest /= batch[d];
                int da = Dim(a, d, rank), db = Dim(b, d, rank);
                ta += (da == 1 ? 0 : coord) * sa;
                tb += (db == 1 ? 0 : coord) * sb;
                sa *= da;
                sb *= db;
            }
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    for (int p = 0; p < k; p++)
                        visit(ta * m * k + (g.TransA ? p * m + i : i * k + p), tb * k * n + (g.TransB ? j * k + p : p * n + j),
                            (t * m + i) * n + j);
        }
    }

    /// <summary>C's element added to y[i, j] (Gemm): its right-aligned [rows, cols] view, broadcast.</summary>
    private static int CIndex(GemmGradCase g, int y)
    {
        var (_, _, n, _) = Sizes(g);
        int[] cd = g.C!;
        int rows = cd.Length == 2 ? cd[0] : 1, cols = cd.Length >= 1 ? cd[^1] : 1;
        return (rows == 1 ? 0 : y / n) * cols + (cols == 1 ? 0 : y % n);
    }

    private static double[] PreActivation(GemmGradCase g, double[] a, double[] b, double[]? c)
    {
        var z = new double[g.Count(OutDims(g))];
        Terms(g, (ai, bi, yi) => z[yi] += g.Alpha * a[ai] * b[bi]);
        if (c is not null && g.Beta != 0)
            for (int i = 0; i < z.Length; i++) z[i] += g.Beta * c[CIndex(g, i)];
        return z;
    }

    private static double[] Forward(GemmGradCase g, double[] a, double[] b, double[]? c) =>
        PreActivation(g, a, b, c).Select(z => ActivationReference.Apply(g.Act, z, g.ActAlpha, g.ActBeta)).ToArray();

    /// <summary>The adjoint of <see cref="Forward"/> over the same terms.</summary>
    private static (double[] Da, double[] Db, double[]? Dc) Backward(GemmGradCase g, double[] a, double[] b, double[]? c, double[] dy)
    {
        var dz = PreActivation(g, a, b, c).Select((z, i) =>
            dy[i] * ActivationReference.Derivative(g.Act, z, g.ActAlpha, g.ActBeta)).ToArray();
        var (da, db) = (new double[a.Length], new double[b.Length]);
        Terms(g, (ai, bi, yi) => { da[ai] += g.Alpha * dz[yi] * b[bi]; db[bi] += g.Alpha * dz[yi] * a[ai]; });
        double[]? dc = c is null ? null : new double[c.Length];
        if (dc is not null && g.Beta != 0)
            for (int i = 0; i < dz.Length; i++) dc[CIndex(g, i)] += g.Beta * dz[i];
        return (da, db, dc);
    }
}
