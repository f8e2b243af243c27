using System.Runtime.InteropServices;
using VulkanCnn.Graph;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// Gemm (Y = alpha·A'·B' + beta·C, transA/transB, C unidirectionally broadcast to [M, N]) and
/// MatMul (NumPy semantics: 1-D operands promoted, batch dimensions broadcast), both on the
/// register-blocked kernel <c>gemm_blocked</c> with an optional fused activation. A constant B
/// (a Linear layer's weight) is repacked once, transposed as needed and padded to whole vec4s.
/// </summary>
public sealed class Gemm : IOperator
{
    public IReadOnlyList<string> OpTypes { get; } = ["Gemm", "MatMul"];

    public OperatorTraits Traits(Node node) => OperatorTraits.AcceptsFusedActivation;

    /// <summary>The problem: per-batch M×K by K×N products, where each batch's operands start.</summary>
    private sealed record Plan(int M, int N, int K, int[] OutDims, bool TransA, bool TransB,
        int[] BatchA, int[] BatchB, int[] BatchOut, float Alpha, float Beta);

    public IReadOnlyList<TensorShape> InferShapes(OpContext c) => [new TensorShape(Resolve(c).OutDims)];

    public void Build(OpBuildContext c)
    {
        var plan = Resolve(c);
        var act = c.Activation;
        int m = plan.M, n = plan.N, k = plan.K;
        int batch = plan.BatchOut.Aggregate(1, (x, y) => checked(x * y));
        if (plan.BatchB.Length == 0 && batch > 1)
        {
            // B is shared by every batch: the batches are just more rows of one product.
            m = checked(m * batch);
            batch = 1;
        }
        if (batch > 65535) throw c.Unsupported($"{batch} batches exceed the dispatch limit of 65535");

        // A: row-major [M, K], or [K, M] with transA.
        var a = c.Input(0);
        uint aRow = plan.TransA ? 1u : (uint)k, aCol = plan.TransA ? (uint)plan.M : 1u;
        bool aVec4 = !plan.TransA && k % 4 == 0;

        // B: packed [batches, K, N rounded up to 4] when constant, else as stored.
        Tensor b;
        uint bRow, bCol;
        long bMatrix;
        bool bVec4;
        if (c.Constant(1) is { Floats: { } weights })
        {
            int padded = (n + 3) / 4 * 4;
            int matrices = plan.BatchB.Aggregate(1, (x, y) => x * y);
            var packed = new float[checked((long)matrices * k * padded)];
            for (int t = 0; t < matrices; t++)
                for (int kk = 0; kk < k; kk++)
                    for (int j = 0; j < n; j++)
                        packed[((long)t * k + kk) * padded + j] = weights[(long)t * k * n + (plan.TransB ? (long)j * k + kk : (long)kk * n + j)];
            b = c.Weight("packed_b", [packed.Length], packed);
            (bRow, bCol, bMatrix, bVec4) = ((uint)padded, 1u, (long)k * padded, true);
        }
        else
        {
            b = c.Input(1);
            (bRow, bCol, bMatrix, bVec4) = plan.TransB ? (1u, (uint)k, (long)k * n, false) : ((uint)n, 1u, (long)k * n, n % 4 == 0);
        }

        var offsets = BatchOffsets(plan, batch, (long)plan.M * k, bMatrix);
        var batchTable = c.WeightInt32("batch_offsets", [offsets.Length], offsets);

        // C (Gemm): strides into its right-aligned [rows, cols] view, 0 where it broadcasts.
        bool hasC = c.Node.OpType == "Gemm" && c.HasInput(2) && plan.Beta != 0;
        uint cRow = 0, cCol = 0;
        if (hasC)
        {
            var (rows, cols) = CView(c, c.InputShape(2), m, n);
            cRow = rows == 1 ? 0u : (uint)cols;
            cCol = cols == 1 ? 0u : 1u;
        }

        uint rowsPerInvocation = m >= 3 ? 4u : (uint)m;
        uint total = c.Device.DefaultWorkgroupSize;
        long nBlocks = (n + 3) / 4, mBlocks = (m + rowsPerInvocation - 1) / rowsPerInvocation;
        uint localX = mBlocks == 1 ? total : Math.Min(total, 16u);
        uint localY = Math.Max(1, total / localX);
        var pipeline = c.Pipeline(new KernelDescription("gemm_blocked", 5, 52, localX, localY)
        {
            Activation = act.Kind,
            Constants = [rowsPerInvocation, aVec4 ? 1u : 0u, bVec4 ? 1u : 0u, hasC ? 1u : 0u, n % 4 == 0 ? 1u : 0u],
        });
        var push = new uint[13];
        push[0] = (uint)m; push[1] = (uint)n; push[2] = (uint)k;
        push[3] = aRow; push[4] = aCol; push[5] = bRow; push[6] = bCol; push[7] = cRow; push[8] = cCol;
        push[9] = Bits(plan.Alpha); push[10] = Bits(plan.Beta); push[11] = Bits(act.Alpha); push[12] = Bits(act.Beta);
        long groupsX = (nBlocks + localX - 1) / localX, groupsY = (mBlocks + localY - 1) / localY;
        if (groupsX > 65535 || groupsY > 65535)
            throw c.Unsupported($"a {m}x{n} product needs {groupsX}x{groupsY} workgroups, over the dispatch limit of 65535 per axis");
        var groups = ((uint)groupsX, (uint)groupsY, (uint)batch);
        c.Dispatch(pipeline, [a, b, hasC ? c.Input(2) : a, batchTable, c.Output(0)], groups, MemoryMarshal.AsBytes(push.AsSpan()));
    }

    private static uint Bits(float v) => BitConverter.SingleToUInt32Bits(v);

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
                throw c.Error($"inner dimensions differ: A {a}{(transA ? " (transposed)" : "")} has K={ka}, B {b}{(transB ? " (transposed)" : "")} has K={kb}");
            float beta = c.Float("beta", 1);
            if (c.HasInput(2) && beta != 0) CView(c, c.InputShape(2), m, n);
            return new Plan(m, n, ka, [m, n], transA, transB, [], [], [], c.Float("alpha", 1), beta);
        }

        // MatMul: 1-D A is a row vector, 1-D B a column vector; the promoted axis is dropped again.
        int[] ad = a.Rank == 1 ? [1, a[0]] : a.ToArray();
        int[] bd = b.Rank == 1 ? [b[0], 1] : b.ToArray();
        int mm = ad[^2], k = ad[^1], nn = bd[^1];
        if (bd[^2] != k) throw c.Error($"inner dimensions differ: A {a} has K={k}, B {b} has K={bd[^2]}");
        int[] batchA = ad[..^2], batchB = bd[..^2];
        int rank = Math.Max(batchA.Length, batchB.Length);
        var batch = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            int da = d - (rank - batchA.Length), db = d - (rank - batchB.Length);
            int x = da >= 0 ? batchA[da] : 1, y = db >= 0 ? batchB[db] : 1;
            if (x != y && x != 1 && y != 1) throw c.Error($"batch dimensions of A {a} and B {b} do not broadcast");
            batch[d] = Math.Max(x, y);
        }
        var outDims = new List<int>(batch);
        if (a.Rank > 1) outDims.Add(mm);
        if (b.Rank > 1) outDims.Add(nn);
        return new Plan(mm, nn, k, outDims.ToArray(), false, false, batchA, batchB, batch, 1, 0);
    }
}
