using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// Gemm (Y = alpha·A'·B' + beta·C, transA/transB, C unidirectionally broadcast to [M, N] unless the
/// legacy broadcast=0) and
/// MatMul (NumPy semantics: 1-D operands promoted, batch dimensions broadcast), both on the
/// register-blocked kernel <c>gemm_blocked</c> with an optional fused activation. A constant B
/// (a Linear layer's weight) is repacked once, transposed as needed and padded to whole vec4s; a
/// runtime B (training) is repacked the same way by <c>gemm_pack</c> before each product.
/// Backward: dA, dB as gemm_blocked products, dC and broadcast batches by <c>gemm_backward_reduce</c>.
/// </summary>
internal sealed class Gemm : IOperator, IDifferentiable, IKernelVariants
{
    private const uint NaiveTile = 8;

    private readonly record struct NaivePush(uint M, uint N, uint K);

    public IReadOnlyList<string> OpTypes { get; } = ["Gemm", "MatMul"];

    /// <summary><c>naive</c> (the reference: <c>matmul_naive</c>, one output per invocation, plain 2-D products only),
    /// <c>blocked</c> (<c>gemm_blocked</c>: register blocks, vec4 loads, batches, transposes, C, alpha/beta, fused activation) and
    /// <c>tiled</c> (<see cref="GemmTiled"/>: the same through shared-memory tiles, for GPUs).</summary>
    public IReadOnlyList<string> Variants { get; } = ["naive", "blocked", GemmTiled.Name];

    public string? Refusal(string variant, OpContext node, GpuDevice? device)
    {
        if (variant == GemmTiled.Name)
        {
            var p = Resolve(node);
            return device is null ? null : GemmTiled.Refusal(p.M * BatchCount(p), p.N, BatchCount(p), device.Info);
        }
        if (variant != "naive") return null;
        var plan = Resolve(node);
        if (node.InputShape(0).Rank != 2 || node.InputShape(1).Rank != 2) return "multiplies 2-D A and B only";
        if (plan.TransA || plan.TransB || plan.Alpha != 1 || (node.Node.OpType == "Gemm" && node.HasInput(2) && plan.Beta != 0))
            return "computes A·B only (no transposes, alpha or C)";
        if (node.Activation.Kind != ActivationKind.None) return "has no fused activation";
        if (device is null) return null;
        var max = device.Info.Limits.MaxWorkGroupCount;
        return (plan.N + NaiveTile - 1) / NaiveTile > max[0] || (plan.M + NaiveTile - 1) / NaiveTile > max[1]
            ? $"needs more than the device's [{max[0]}, {max[1]}] workgroups for a {plan.M}x{plan.N} product" : null;
    }

    /// <summary>blocked on CPU drivers (where it beats shared-memory tiles), tiled on GPUs (not yet measured there).</summary>
    public string Heuristic(OpContext node, GpuDevice device) =>
        device.Info.Type != DeviceKind.Cpu && Refusal(GemmTiled.Name, node, device) is null ? GemmTiled.Name : "blocked";

    public OperatorTraits Traits(Node node) => OperatorTraits.AcceptsFusedActivation | OperatorTraits.Fp16Storage;


    /// <summary>Rows of A (and of a C with one row each) per sample; MatMul's B only as a shared weight.</summary>
    public IReadOnlyList<int>? PerSampleInputs(Node node) =>
        node.OpType == "MatMul" ? [0] : node.Attributes.Int("transA", 0) == 0 ? [0, 2] : null;

    /// <summary>The problem: per-batch M×K by K×N products, where each batch's operands start.</summary>
    private sealed record Plan(int M, int N, int K, int[] OutDims, bool TransA, bool TransB,
        int[] BatchA, int[] BatchB, int[] BatchOut, float Alpha, float Beta);

    public IReadOnlyList<TensorShape> InferShapes(OpContext c) => [new TensorShape(Resolve(c).OutDims)];

    /// <summary>An operand of gemm_blocked: element (i, k) of batch t is at offset_t + i·Row + k·Col.
    /// Padded: a repacked B whose rows are whole vec4s.</summary>
    private readonly record struct Operand(Tensor T, uint Row, uint Col, bool Padded = false);

    public void Build(OpBuildContext c)
    {
        var plan = Resolve(c);
        if (c.Variant == "naive")
        {
            var pipeline = c.Pipeline(new PipelineKey("matmul_naive", 3, 12, NaiveTile, NaiveTile));
            var groups = ((uint)((plan.N + NaiveTile - 1) / NaiveTile), (uint)((plan.M + NaiveTile - 1) / NaiveTile), 1u);
            c.Dispatch(pipeline, [c.Input(0), c.Input(1), c.Output(0)], groups, new NaivePush((uint)plan.M, (uint)plan.N, (uint)plan.K));
            return;
        }
        var s = KernelSink.Of(c);
        int m = plan.M, n = plan.N, k = plan.K;
        int batch = BatchCount(plan);
        if (plan.BatchB.Length == 0 && batch > 1)
        {
            // B is shared by every batch: the batches are just more rows of one product.
            m = checked(m * batch);
            batch = 1;
        }

        // A: row-major [M, K], or [K, M] with transA.
        var a = new Operand(c.Input(0), plan.TransA ? 1u : (uint)k, plan.TransA ? (uint)plan.M : 1u);

        // B: packed [batches, K, N rounded up to 4] when constant, else as stored.
        Operand b;
        long bMatrix = (long)k * n;
        if (c.Constant(1) is { Floats: { } weights })
        {
            int padded = (n + 3) / 4 * 4;
            int matrices = plan.BatchB.Aggregate(1, (x, y) => x * y);
            var packed = new float[checked((long)matrices * k * padded)];
            for (int t = 0; t < matrices; t++)
                for (int kk = 0; kk < k; kk++)
                    for (int j = 0; j < n; j++)
                        packed[((long)t * k + kk) * padded + j] = weights[(long)t * k * n + (plan.TransB ? (long)j * k + kk
                            : (long)kk * n + j)];
            b = new Operand(c.Weight("packed_b", [packed.Length], packed), (uint)padded, 1u, Padded: true);
            bMatrix = (long)k * padded;
        }
        else if ((plan.TransB || n % 4 != 0) && m > 4)
        {
            // A runtime B (training) read by several row blocks: repack it on the GPU once per run.
            b = PackOnGpu(s, "packed_b", c.Input(1), plan.BatchB.Aggregate(1, (x, y) => x * y), k, n, plan.TransB);
            bMatrix = (long)k * b.Row;
        }
        else b = plan.TransB ? new Operand(c.Input(1), 1u, (uint)k) : new Operand(c.Input(1), (uint)n, 1u);

        // C (Gemm): strides into its right-aligned [rows, cols] view, 0 where it broadcasts.
        Operand? bias = null;
        if (c.Node.OpType == "Gemm" && c.HasInput(2) && plan.Beta != 0)
        {
            var (rows, cols) = CView(c, c.InputShape(2), m, n);
            bias = new Operand(c.Input(2), rows == 1 ? 0u : (uint)cols, cols == 1 ? 0u : 1u);
        }
        Product(s, "batch_offsets", m, n, k, a, b, BatchOffsets(plan, batch, (long)plan.M * k, bMatrix), c.Output(0), plan.Alpha,
            c.Activation, false, bias, plan.Beta);
    }

    /// <summary>Records gemm_blocked (gemm_tiled for the tiled variant): Y[t] = act(alpha · A[t]·B[t] + beta · C), or
    /// Y[t] += alpha · A[t]·B[t] when <paramref name="accumulate"/>; batch t reads A and B at offsets[2t], offsets[2t + 1] and
    /// writes Y rows t·M ….</summary>
    private static void Product(KernelSink s, string key, int m, int n, int k, Operand a, Operand b, int[] offsets, Tensor y,
        float alpha, FusedActivation act, bool accumulate, Operand? c = null, float beta = 0)
    {
        int batch = offsets.Length / 2;
        if (batch > 65535) throw s.Context.Unsupported($"{batch} batches exceed the dispatch limit of 65535");
        uint[] push =
        [
            (uint)m, (uint)n, (uint)k, a.Row, a.Col, b.Row, b.Col, c?.Row ?? 0, c?.Col ?? 0,
            Bits(alpha), Bits(beta), Bits(act.Alpha), Bits(act.Beta),
        ];
        if (s.Context.Variant == GemmTiled.Name)
        {
            GemmTiled.Dispatch(s, m, n, batch, [a.T, b.T, c?.T ?? a.T, s.WeightInt32(key, offsets), y], push, act, c is not null,
                accumulate);
            return;
        }
        bool Aligned(int first) => Enumerable.Range(0, batch).All(t => offsets[2 * t + first] % 4 == 0);
        bool aVec4 = a.Col == 1 && a.Row % 4 == 0 && Aligned(0);
        bool bVec4 = b.Padded || (b.Col == 1 && b.Row % 4 == 0 && n % 4 == 0 && Aligned(1));
        // Bigger register blocks load fewer operands per FMA; small products keep more invocations.
        uint rowsPerInvocation = m >= 8 * 16 ? 8u : m >= 3 ? 4u : (uint)m;
        uint colBlocks = n >= 8 && m >= 4 ? 2u : 1u;
        uint total = s.Device.DefaultWorkgroupSize;
        long nBlocks = (n + 4 * colBlocks - 1) / (4 * colBlocks), mBlocks = (m + rowsPerInvocation - 1) / rowsPerInvocation;
        uint localX = mBlocks == 1 ? total : Math.Min(total, 16u);
        uint localY = Math.Max(1, total / localX);
        var pipeline = s.Pipeline(new PipelineKey("gemm_blocked", 5, 52, localX, localY)
        {
            Activation = (uint)act.Kind,
            Constants = [rowsPerInvocation, aVec4 ? 1u : 0u, bVec4 ? 1u : 0u, c is null ? 0u : 1u, n % 4 == 0 ? 1u : 0u, accumulate ? 1u
                : 0u, colBlocks],
        });
        long groupsX = (nBlocks + localX - 1) / localX, groupsY = (mBlocks + localY - 1) / localY;
        if (groupsX > 65535 || groupsY > 65535)
            throw s.Context.Unsupported(
                $"a {m}x{n} product needs {groupsX}x{groupsY} workgroups, over the dispatch limit of 65535 per axis");
        s.Dispatch(pipeline, [a.T, b.T, c?.T ?? a.T, s.WeightInt32(key, offsets), y], ((uint)groupsX, (uint)groupsY, (uint)batch), push);
    }

    /// <summary>gemm_pack: <paramref name="matrices"/> [rows, cols] operands (stored [cols, rows] when <paramref name="transposed"/>)
    /// into a scratch [matrices, rows, cols rounded up to 4], zero padded, which gemm_blocked reads as aligned vec4s.</summary>
    private static Operand PackOnGpu(KernelSink s, string key, Tensor source, int matrices, int rows, int cols, bool transposed)
    {
        int padded = (cols + 3) / 4 * 4;
        long count = (long)matrices * rows * padded;
        var packed = s.Scratch(key, [checked((int)count)]);
        uint local = s.Device.DefaultWorkgroupSize;
        var pack = s.Pipeline(new PipelineKey("gemm_pack", 2, 16, local) { Constants = [transposed ? 1u : 0u] });
        s.Dispatch(pack, [source, packed], s.Grid1D(count, local), [(uint)count, (uint)rows, (uint)cols, (uint)padded]);
        return new Operand(packed, (uint)padded, 1u, Padded: true);
    }

    private static uint Bits(float v) => BitConverter.SingleToUInt32Bits(v);

    private static int BatchCount(Plan plan) => plan.BatchOut.Aggregate(1, (x, y) => checked(x * y));

    public bool HasGradient(Node node, int inputIndex) => inputIndex == 0 || inputIndex == 1 || (inputIndex == 2 && node.OpType == "Gemm");

    public bool DifferentiatesFused(Node node, FusedActivation activation) => BackwardActivation.Supports(activation);

    /// <summary>With A' = op(A), B' = op(B), dz = dY · act'(y): dA' = alpha · dz·B'ᵀ, dB' = alpha · A'ᵀ·dz, both as
    /// gemm_blocked products reading the operands through transposing strides; dC = beta · dz summed over C's
    /// broadcast axes. MatMul batches: a broadcast operand's gradient is summed over the batches that shared it.</summary>
    public void BuildBackward(BackwardContext c)
    {
        var plan = Resolve(c);
        var act = c.Activation;
        BackwardActivation.Check(c, act);
        if (c.OutputGradient(0) is not { } dy) return;
        var s = KernelSink.Of(c);
        var dz = dy;
        if (act.Kind != ActivationKind.None)
        {
            dz = c.Scratch("dz", dy.Shape);
            uint local = c.Device.DefaultWorkgroupSize;
            var pipeline = c.Pipeline(new PipelineKey("gemm_backward_dy", 3, 12, local) { Activation = (uint)act.Kind });
            s.Dispatch(pipeline, [dy, c.Output(0), dz], s.Grid1D(dy.Shape.ElementCount, local),
                [(uint)dy.Shape.ElementCount, Bits(act.Alpha), Bits(act.Beta)]);
        }
        int m = plan.M, n = plan.N, k = plan.K, batch = BatchCount(plan);
        int countA = plan.BatchA.Aggregate(1, (x, y) => x * y), countB = plan.BatchB.Aggregate(1, (x, y) => x * y);
        var offsets = BatchOffsets(plan, batch, (long)m * k, (long)k * n);
        int Dz(int t) => checked(t * m * n);
        // A'(i, kk) = A[i·ar + kk·ac], B'(kk, j) = B[kk·br + j·bc].
        var (ar, ac) = plan.TransA ? (1u, (uint)m) : ((uint)k, 1u);
        var (br, bc) = plan.TransB ? (1u, (uint)k) : ((uint)n, 1u);
        Tensor a = c.Input(0), b = c.Input(1);

        if (c.InputGradient(0) is { } da)
        {
            // Row-major result: [M, K] (or [K, M] with transA) per batch.
            var (rows, cols) = plan.TransA ? (k, m) : (m, k);
            var (first, second) = plan.TransA
                ? (new Operand(b, br, bc), new Operand(dz, 1u, (uint)n))
                : (new Operand(dz, (uint)n, 1u), new Operand(b, bc, br));
            var pairs = Enumerable.Range(0, batch).SelectMany(t => plan.TransA ? new[] { offsets[2 * t + 1], Dz(t) }
                : [Dz(t), offsets[2 * t + 1]]).ToArray();
            if (countB == 1 && countA == batch)
                Product(s, "da_offsets", rows * batch, cols, n, first, second, [0, 0], da, plan.Alpha, FusedActivation.None, true);
            else
                Gradient(s, "da", pairs, rows, cols, n, first, second, plan.Alpha, countA == batch, da, [.. plan.BatchOut, rows, cols],
                    [.. plan.BatchA, rows, cols]);
        }
        if (c.InputGradient(1) is { } dbGrad)
        {
            var (rows, cols) = plan.TransB ? (n, k) : (k, n);
            var (first, second) = plan.TransB
                ? (new Operand(dz, 1u, (uint)n), new Operand(a, ar, ac))
                : (new Operand(a, ac, ar), new Operand(dz, (uint)n, 1u));
            if (plan.TransB && batch == 1 && m > 4)
            {
                // dB = dzᵀ·A' (a Linear layer's weight gradient): dz read down its columns is scalar loads, so
                // transpose it once into rows gemm_blocked loads as vec4s.
                first = PackOnGpu(s, "dz_transposed", dz, 1, n, m, transposed: true);
            }
            var pairs = Enumerable.Range(0, batch).SelectMany(t => plan.TransB ? new[] { Dz(t), offsets[2 * t] }
                : [offsets[2 * t], Dz(t)]).ToArray();
            if (countB == 1 && countA == batch && !plan.TransB)
                // B shared by all batches: one product over the batches stacked along K (A and dz rows are contiguous).
                Product(s, "db_offsets", rows, cols, m * batch, first, second, [0, 0], dbGrad, plan.Alpha, FusedActivation.None, true);
            else
                Gradient(s, "db", pairs, rows, cols, m, first, second, plan.Alpha, countB == batch, dbGrad, [.. plan.BatchOut, rows, cols],
                    [.. plan.BatchB, rows, cols]);
        }
        if (c.Node.OpType == "Gemm" && c.HasInput(2) && c.InputGradient(2) is { } dc && plan.Beta != 0)
        {
            var (rows, cols) = CView(c, c.InputShape(2), m, n);
            Reduce(s, dz, [m, n], [rows, cols], plan.Beta, dc);
        }
    }

    /// <summary>A batched gradient product: straight into <paramref name="grad"/> when the operand has every batch,
    /// else into a scratch [batches, rows, cols] summed over the broadcast batch axes.</summary>
    private static void Gradient(KernelSink s, string key, int[] pairs, int rows, int cols, int inner, Operand first, Operand second,
        float alpha,
        bool full, Tensor grad, int[] fullDims, int[] gradDims)
    {
        if (full)
        {
            Product(s, key + "_offsets", rows, cols, inner, first, second, pairs, grad, alpha, FusedActivation.None, true);
            return;
        }
        var scratch = s.Scratch(key + "_per_batch", [checked(pairs.Length / 2 * rows * cols)]);
        Product(s, key + "_offsets", rows, cols, inner, first, second, pairs, scratch, alpha, FusedActivation.None, false);
        Reduce(s, scratch, fullDims, gradDims, 1, grad);
    }

    /// <summary>target += scale · source summed over the axes where the right-aligned target dims are 1 (gemm_backward_reduce).</summary>
    private static void Reduce(KernelSink s, Tensor source, int[] sourceDims, int[] targetDims, float scale, Tensor target)
    {
        // Drop size-1 axes, merge neighbours that are both kept or both summed.
        var axes = new List<(int Dim, bool Summed)>();
        for (int d = 0; d < sourceDims.Length; d++)
        {
            int t = d - (sourceDims.Length - targetDims.Length);
            bool summed = t < 0 || targetDims[t] == 1;
            if (sourceDims[d] == 1) continue;
            if (axes.Count > 0 && axes[^1].Summed == summed) axes[^1] = (axes[^1].Dim * sourceDims[d], summed);
            else axes.Add((sourceDims[d], summed));
        }
        if (axes.Count > 6) throw s.Context.Unsupported($"reducing [{string.Join(", ", sourceDims)}] to " +
            $"[{string.Join(", ", targetDims)}] needs more than 6 axes");
        long count = target.Shape.ElementCount;
        var push = new uint[11];
        push[0] = (uint)count;
        push[1] = (uint)axes.Count;
        push[3] = 1;
        for (int d = 0; d < axes.Count; d++)
        {
            push[4 + d] = (uint)axes[d].Dim;
            if (axes[d].Summed) { push[2] |= 1u << d; push[3] *= (uint)axes[d].Dim; }
        }
        push[10] = Bits(scale);
        uint local = s.Device.DefaultWorkgroupSize;
        s.Dispatch(s.Pipeline(new PipelineKey("gemm_backward_reduce", 2, 44, local)), [source, target], s.Grid1D(count, local), push);
    }

    /// <summary>(A offset, B offset) per output batch, broadcasting batch axes of size 1.</summary>
    private static int[] BatchOffsets(Plan plan, int batch, long aMatrix, long bMatrix)
    {
        var offsets = new int[2 * batch];
        if (batch == 1) return offsets;
        int rank = plan.BatchOut.Length;
        for (int t = 0; t < batch; t++)
        {
            long aIndex = 0, bIndex = 0;
            int rest = t, aScale = 1, bScale = 1;
            for (int d = rank - 1; d >= 0; d--)
            {
                int coord = rest % plan.BatchOut[d];
                rest /= plan.BatchOut[d];
                int da = d - (rank - plan.BatchA.Length), db = d - (rank - plan.BatchB.Length);
                if (da >= 0) { if (plan.BatchA[da] > 1) aIndex += (long)coord * aScale; aScale *= plan.BatchA[da]; }
                if (db >= 0) { if (plan.BatchB[db] > 1) bIndex += (long)coord * bScale; bScale *= plan.BatchB[db]; }
            }
            offsets[2 * t] = checked((int)(aIndex * aMatrix));
            offsets[2 * t + 1] = checked((int)(bIndex * bMatrix));
        }
        return offsets;
    }

    /// <summary>C's shape right-aligned to [M, N]; each side must be 1 or match.</summary>
    private static (int Rows, int Cols) CView(OpContext c, TensorShape shape, int m, int n)
    {
        if (shape.Rank > 2) throw c.Error($"C {shape} has rank {shape.Rank}; it must broadcast to [{m}, {n}]");
        int rows = shape.Rank == 2 ? shape[0] : 1, cols = shape.Rank >= 1 ? shape[shape.Rank - 1] : 1;
        if ((rows != 1 && rows != m) || (cols != 1 && cols != n))
            throw c.Error($"C {shape} does not broadcast to the output [{m}, {n}]");
        return (rows, cols);
    }

    private static Plan Resolve(OpContext c)
    {
        var a = c.InputShape(0);
        var b = c.InputShape(1);
        if (c.Node.OpType == "Gemm")
        {
            if (a.Rank != 2 || b.Rank != 2) throw c.Error($"Gemm takes 2-D A and B; got A {a} and B {b}");
            bool transA = c.Int("transA", 0) != 0, transB = c.Int("transB", 0) != 0;
            int m = transA ? a[1] : a[0], ka = transA ? a[0] : a[1];
            int kb = transB ? b[1] : b[0], n = transB ? b[0] : b[1];
            if (ka != kb)
                throw c.Error($"inner dimensions differ: A {a}{(transA ? " (transposed)" : "")} has K={ka}, B " +
                    $"{b}{(transB ? " (transposed)" : "")} has K={kb}");
            float beta = c.Float("beta", 1);
            // Opset < 7's broadcast attribute: 0 wants C at the full [M, N]; absent (opset 7+) it broadcasts.
            long broadcast = c.Int("broadcast", 1);
            if (broadcast is not (0 or 1)) throw c.Error($"broadcast must be 0 or 1; got {broadcast}");
            if (c.HasInput(2) && broadcast == 0 && !c.InputShape(2).Equals(new TensorShape(m, n)))
                throw c.Error($"C {c.InputShape(2)} must be the output's [{m}, {n}] with broadcast=0 (opset < 7)");
            if (c.HasInput(2) && beta != 0) CView(c, c.InputShape(2), m, n);
            return new Plan(m, n, ka, [m, n], transA, transB, [], [], [], c.Float("alpha", 1), beta);
        }

        // MatMul: 1-D A is a row vector, 1-D B a column vector; the promoted axis is dropped again.
        int[] ad = a.Rank == 1 ? [1, a[0]] : a.ToArray();
        int[] bd = b.Rank == 1 ? [b[0], 1] : b.ToArray();
        int mm = ad[^2], k = ad[^1], nn = bd[^1];
        if (bd[^2] != k) throw c.Error($"inner dimensions differ: A {a} has K={k}, B {b} has K={bd[^2]}");
        int[] batchA = ad[..^2], batchB = bd[..^2];
        var batch = Elementwise.Broadcast(batchA, batchB) ?? throw c.Error($"batch dimensions of A {a} and B {b} do not broadcast");
        var outDims = new List<int>(batch);
        if (a.Rank > 1) outDims.Add(mm);
        if (b.Rank > 1) outDims.Add(nn);
        return new Plan(mm, nn, k, outDims.ToArray(), false, false, batchA, batchB, batch, 1, 0);
    }
}
