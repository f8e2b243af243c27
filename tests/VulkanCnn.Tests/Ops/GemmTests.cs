using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>Gemm and MatMul against naive double-precision CPU products.</summary>
public sealed class GemmTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>alpha·op(A)·op(B) + beta·C with C given as a function of (row, col).</summary>
    internal static float[] GemmReference(float[] a, float[] b, int m, int k, int n, bool transA, bool transB,
        float alpha, float beta, Func<int, int, float>? c, Func<double, double>? act = null)
    {
        var y = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (double)a[transA ? p * m + i : i * k + p] * b[transB ? j * k + p : p * n + j];
                double v = alpha * s + (c is null ? 0 : beta * (double)c(i, j));
                y[i * n + j] = (float)(act ?? (x => x))(v);
            }
        return y;
    }

    /// <summary>NumPy matmul of row-major tensors with batch broadcasting and 1-D promotion.</summary>
    internal static (int[] Dims, float[] Data) MatMulReference(float[] a, int[] ad, float[] b, int[] bd)
    {
        int[] ap = ad.Length == 1 ? [1, ad[0]] : ad, bp = bd.Length == 1 ? [bd[0], 1] : bd;
        int m = ap[^2], k = ap[^1], n = bp[^1];
        int rank = Math.Max(ap.Length, bp.Length) - 2;
        int[] Pad(int[] d) => [.. Enumerable.Repeat(1, rank - (d.Length - 2)), .. d[..^2]];
        int[] ba = Pad(ap), bb = Pad(bp);
        int[] batch = ba.Zip(bb, Math.Max).ToArray();
        int count = NdIndex.Count(batch);
        var y = new float[count * m * n];
        for (int t = 0; t < count; t++)
        {
            int[] coord = NdIndex.Coords(t, batch);
            int ia = NdIndex.Flat(coord.Select((v, d) => ba[d] == 1 ? 0 : v).ToArray(), ba);
            int ib = NdIndex.Flat(coord.Select((v, d) => bb[d] == 1 ? 0 : v).ToArray(), bb);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += (double)a[(ia * m + i) * k + p] * b[(ib * k + p) * n + j];
                    y[(t * m + i) * n + j] = (float)s;
                }
        }
        var dims = new List<int>(batch);
        if (ad.Length > 1) dims.Add(m);
        if (bd.Length > 1) dims.Add(n);
        return (dims.ToArray(), y);
    }

    [Theory]
    [InlineData(1, 1, 1, false, false, true)]
    [InlineData(7, 13, 5, false, false, true)]
    [InlineData(7, 13, 5, false, false, false)]
    [InlineData(33, 17, 65, false, true, true)]
    [InlineData(33, 17, 65, true, false, false)]
    [InlineData(33, 16, 64, false, false, false)]   // every vec4 path
    [InlineData(2, 9, 3, true, true, true)]
    [InlineData(3, 12, 6, true, true, false)]
    [InlineData(1, 64, 10, false, true, true)]      // a Linear layer at batch 1
    [InlineData(130, 9, 13, false, false, false)]   // 8-row blocks with a ragged last block, two column blocks with a ragged last one
    [InlineData(131, 12, 20, false, true, true)]     // 8 rows x 8 columns, packed constant B with padding
    [InlineData(129, 7, 12, true, true, false)]     // strided A and B, a second column block wholly past N
    public void Gemm_matches_reference(int m, int k, int n, bool transA, bool transB, bool constantB)
    {
        var a = Reference.Random(m * k, 91);
        var b = Reference.Random(k * n, 92);
        var bias = Reference.Random(n, 93);
        var runs = RunEachVariant(Device, "Gemm", Attrs(("transA", transA ? 1 : 0), ("transB", transB ? 1 : 0)),
            In.Of(transA ? [k, m] : [m, k], a),
            constantB ? In.Weight(transB ? [n, k] : [k, n], b) : In.Of(transB ? [n, k] : [k, n], b),
            In.Weight([n], bias));
        Assert.Equal(["blocked", "tiled"], runs.Select(r => r.Variant));
        foreach (var (variant, y) in runs)
        {
            Assert.Equal(new TensorShape(m, n), y.Shape);
            Tolerance.AssertClose(GemmReference(a, b, m, k, n, transA, transB, 1, 1, (_, j) => bias[j]), y.Floats, Tolerance.Op,
                variant!);
        }
    }

    [Fact]
    public void Gemm_on_the_staging_path()
    {
        const int m = 10, k = 11, n = 9;
        var a = Reference.Random(m * k, 105);
        var b = Reference.Random(n * k, 106);
        var c = Reference.Random(m * n, 107);
        var y = Run1(Gpu.Staging, "Gemm", Attrs(("transB", 1), ("alpha", 1.5f), ("beta", 0.25f)), In.Of([m, k], a), In.Weight([n, k], b),
            In.Of([m, n], c));
        Tolerance.AssertClose(GemmReference(a, b, m, k, n, false, true, 1.5f, 0.25f, (i, j) => c[i * n + j]), y.Floats, Tolerance.Op);
    }

    public static TheoryData<int[]> CShapes =>
        new() { new[] { 11 }, new[] { 1, 11 }, new[] { 6, 1 }, Array.Empty<int>(), new[] { 6, 11 }, new[] { 1, 1 }, new[] { 1 } };

    [Theory]
    [MemberData(nameof(CShapes))]
    public void C_broadcasts_with_alpha_and_beta(int[] cDims)
    {
        const int m = 6, k = 7, n = 11;
        var a = Reference.Random(m * k, 94);
        var b = Reference.Random(k * n, 95);
        var cData = Reference.Random(Math.Max(1, NdIndex.Count(cDims)), 96);
        int rows = cDims.Length == 2 ? cDims[0] : 1, cols = cDims.Length >= 1 ? cDims[^1] : 1;
        var expected = GemmReference(a, b, m, k, n, false, false, 0.5f, -2f,
            (i, j) => cData[(rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j)]);
        foreach (var (variant, y) in RunEachVariant(Device, "Gemm", Attrs(("alpha", 0.5f), ("beta", -2f)), In.Of([m, k], a),
            In.Weight([k, n], b), In.Of(cDims, cData)))
            Tolerance.AssertClose(expected, y.Floats, Tolerance.Op, variant!);
    }

    [Theory]
    [InlineData(1, new[] { 11 })]
    [InlineData(1, new[] { 6, 1 })]
    [InlineData(0, new[] { 6, 11 })]
    public void Legacy_broadcast_attribute(int broadcast, int[] cDims)
    {
        const int m = 6, k = 5, n = 11;
        var a = Reference.Random(m * k, 108);
        var b = Reference.Random(n * k, 109);
        var cData = Reference.Random(NdIndex.Count(cDims), 110);
        int rows = cDims.Length == 2 ? cDims[0] : 1, cols = cDims[^1];
        var y = Run1(Device, "Gemm", Attrs(("broadcast", broadcast), ("transB", 1)), In.Of([m, k], a), In.Weight([n, k], b),
            In.Of(cDims, cData));
        var expected = GemmReference(a, b, m, k, n, false, true, 1, 1, (i, j) => cData[(rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j)]);
        Tolerance.AssertClose(expected, y.Floats, Tolerance.Op);
    }

    [Fact]
    public void Legacy_broadcast_zero_wants_the_full_C_and_other_values_are_refused()
    {
        var e = Assert.Throws<GraphException>(() =>
            Run1(Device, "Gemm", Attrs(("broadcast", 0)), In.Random([4, 5], 1), In.Random([5, 3], 2), In.Random([3], 3)));
        Assert.Contains("gemm0", e.Message);
        Assert.Contains("[3]", e.Message);
        Assert.Contains("[4, 3]", e.Message);
        e = Assert.Throws<GraphException>(() =>
            Run1(Device, "Gemm", Attrs(("broadcast", 2)), In.Random([4, 5], 1), In.Random([5, 3], 2), In.Random([4, 3], 3)));
        Assert.Contains("broadcast must be 0 or 1", e.Message);
    }

    [Fact]
    public void Gemm_without_C_and_with_beta_zero()
    {
        const int m = 5, k = 6, n = 3;
        var a = Reference.Random(m * k, 97);
        var b = Reference.Random(k * n, 98);
        var expected = GemmReference(a, b, m, k, n, false, false, 2f, 0, null);
        Tolerance.AssertClose(expected, Run1(Device, "Gemm", Attrs(("alpha", 2f)), In.Of([m, k], a), In.Weight([k, n], b)).Floats,
            Tolerance.Op);
        var c = In.Of([m, n], Enumerable.Repeat(float.NaN, m * n).ToArray());
        Tolerance.AssertClose(expected,
            Run1(Device, "Gemm", Attrs(("alpha", 2f), ("beta", 0f)), In.Of([m, k], a), In.Weight([k, n], b), c).Floats, Tolerance.Op);
    }

    public static TheoryData<string, float, float> Activations => new()
    {
        { "Relu", 0, 0 }, { "LeakyRelu", 0.1f, 0 }, { "Clip", -0.5f, 0.5f }, { "Sigmoid", 0, 0 }, { "HardSigmoid", 0.2f, 0.5f },
    };

    private static Func<double, double> Activation(string kind, float alpha, float beta) => kind switch
    {
        "Relu" => x => Math.Max(x, 0),
        "LeakyRelu" => x => x >= 0 ? x : alpha * x,
        "Clip" => x => Math.Min(Math.Max(x, alpha), beta),
        "Sigmoid" => x => 1 / (1 + Math.Exp(-x)),
        "HardSigmoid" => x => Math.Clamp(alpha * x + beta, 0, 1),
        _ => throw new ArgumentException(kind),
    };

    [Theory]
    [MemberData(nameof(Activations))]
    public void Fused_activation_applies_after_the_bias(string kind, float alpha, float beta)
    {
        const int m = 9, k = 10, n = 7;
        var a = Reference.Random(m * k, 99);
        var b = Reference.Random(k * n, 100);
        var bias = Reference.Random(n, 101);
        var attrs = Attrs(("transB", 1));
        new FusedActivation(Enum.Parse<ActivationKind>(kind), alpha, beta).WriteTo(attrs);
        foreach (var (variant, y) in RunEachVariant(Device, "Gemm", attrs, In.Of([m, k], a), In.Weight([n, k], b), In.Weight([n], bias)))
            Tolerance.AssertClose(GemmReference(a, b, m, k, n, false, true, 1, 1, (_, j) => bias[j], Activation(kind, alpha, beta)),
                y.Floats, Tolerance.Op, variant!);

        var mmAttrs = new Attributes();
        new FusedActivation(Enum.Parse<ActivationKind>(kind), alpha, beta).WriteTo(mmAttrs);
        var b2 = Reference.Random(k * n, 102);
        var mm = Run1(Device, "MatMul", mmAttrs, In.Of([m, k], a), In.Of([k, n], b2));
        Tolerance.AssertClose(GemmReference(a, b2, m, k, n, false, false, 1, 0, null, Activation(kind, alpha, beta)), mm.Floats,
            Tolerance.Op);
    }

    [Fact]
    public void Gemm_and_MatMul_accept_a_fused_activation()
    {
        foreach (var type in new[] { "Gemm", "MatMul" })
        {
            Assert.True(OperatorRegistry.TryGet(type, out var op));
            Assert.True(op.Traits(new Node(type, "n", ["a", "b"], ["y"])).HasFlag(OperatorTraits.AcceptsFusedActivation));
        }
    }

    public static TheoryData<int[], int[], bool> MatMulShapes => new()
    {
        { [7, 13], [13, 5], false },
        { [33, 17], [17, 65], true },
        { [13], [13, 5], true },               // 1-D A: row vector, M dropped
        { [7, 13], [13], false },              // 1-D B: column vector, N dropped
        { [13], [13], false },                 // dot product: scalar
        { [2, 3, 7, 13], [13, 5], true },      // shared weight: batches fold into M
        { [2, 3, 7, 13], [3, 13, 5], false },  // batch broadcast 2x3 with 3
        { [2, 3, 7, 13], [3, 13, 5], true },
        { [2, 1, 5, 8], [1, 3, 8, 12], false },// both broadcast, vec4 A and B
        { [7, 13], [2, 13, 5], false },        // 2-D A shared by B's batches
        { [3, 2, 9], [3, 9, 4], true },
    };

    [Theory]
    [MemberData(nameof(MatMulShapes))]
    public void MatMul_matches_numpy_semantics_with_every_variant(int[] ad, int[] bd, bool constantB)
    {
        var a = Reference.Random(NdIndex.Count(ad), 103);
        var b = Reference.Random(NdIndex.Count(bd), 104);
        var runs = OpRunner.RunEachVariant(Device, "MatMul", null, In.Of(ad, a), constantB ? In.Weight(bd, b) : In.Of(bd, b));
        // Plain 2-D products also run the reference kernel (matmul_naive); everything runs gemm_blocked and gemm_tiled.
        Assert.Equal(ad.Length == 2 && bd.Length == 2 ? ["naive", "blocked", "tiled"] : ["blocked", "tiled"], runs.Select(r => r.Variant));
        var (dims, expected) = MatMulReference(a, ad, b, bd);
        foreach (var (variant, y) in runs)
        {
            Assert.Equal(new TensorShape(dims), y.Shape);
            Tolerance.AssertClose(expected, y.Floats, Tolerance.Op, variant ?? "output");
        }
    }

    [Fact]
    public void Mismatched_shapes_name_both_operands()
    {
        var e = Assert.Throws<GraphException>(() => Run1(Device, "Gemm", null, In.Random([4, 5], 1), In.Random([6, 3], 2)));
        Assert.Contains("gemm0", e.Message);
        Assert.Contains("[4, 5]", e.Message);
        Assert.Contains("[6, 3]", e.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "Gemm", Attrs(("transB", 1)), In.Random([4, 5], 1), In.Random([5, 3], 2)));
        Assert.Throws<GraphException>(() => Run1(Device, "Gemm", null, In.Random([2, 4, 5], 1), In.Random([5, 3], 2)));
        var c = Assert.Throws<GraphException>(() =>
            Run1(Device, "Gemm", null, In.Random([4, 5], 1), In.Random([5, 3], 2), In.Random([4, 2], 3)));
        Assert.Contains("[4, 2]", c.Message);

        var mm = Assert.Throws<GraphException>(() => Run1(Device, "MatMul", null, In.Random([2, 7, 5], 1), In.Random([6, 3], 2)));
        Assert.Contains("matmul0", mm.Message);
        Assert.Contains("[2, 7, 5]", mm.Message);
        Assert.Contains("[6, 3]", mm.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "MatMul", null, In.Random([2, 7, 5], 1), In.Random([3, 5, 3], 2)));
    }
}
