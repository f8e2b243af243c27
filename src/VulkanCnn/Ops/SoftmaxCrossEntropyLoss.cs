using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// SoftmaxCrossEntropyLoss (ONNX opset 12/13): scores [N, C] or [N, C, D1..Dk], labels [N] or
/// [N, D1..Dk] holding class indices (float tensors here, or int64 constants), optional class
/// weights [C]; reduction mean (default, divided by the summed weight of the non-ignored rows) /
/// sum / none; ignore_index; optional log_prob output. VulkanCnn attribute vkcnn.label_smoothing
/// (ε, default 0) with PyTorch's definition: (1 − ε)·NLL + ε/C·Σ_k(−w_k·log p_k).
/// Kernels: <c>softmax_cross_entropy_loss_rows</c> (log-sum-exp per row), <c>_reduce</c> (one
/// workgroup, fixed order) and <c>_backward</c> (fused softmax + CE gradient, (p − smoothed
/// one-hot)·dY/N without weights).
/// <para>Bad labels (outside [0, C), not an integer, NaN; ignore_index excepted) never index out
/// of bounds (the kernels clamp): the loss becomes NaN (a row's entry for reduction none, the
/// scalar otherwise) for the trainer to detect, and that row's score gradient is NaN so an
/// unchecked step fails loudly. Other rows are unaffected (mean divides by the valid rows' weight).
/// With every row ignored, mean is 0/0 = NaN (as PyTorch).</para>
/// </summary>
internal sealed class SoftmaxCrossEntropyLoss : IOperator, IDifferentiable
{
    public const string LabelSmoothingAttribute = "vkcnn.label_smoothing";

    public IReadOnlyList<string> OpTypes { get; } = ["SoftmaxCrossEntropyLoss"];

    public OperatorTraits Traits(Node node) => OperatorTraits.None;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var scores = c.InputShape(0);
        var labels = c.InputShape(1);
        if (scores.Rank < 2) throw c.Error($"scores {scores} must be [N, C] or [N, C, D1, …]");
        var expected = new TensorShape([scores[0], .. Enumerable.Range(2, scores.Rank - 2).Select(d => scores[d])]);
        if (!labels.Equals(expected)) throw c.Error($"labels have shape {labels}; scores {scores} need labels {expected}");
        if (c.HasInput(2) && (c.InputShape(2).Rank != 1 || c.InputShape(2)[0] != scores[1]))
            throw c.Error($"weights (input 2) have shape {c.InputShape(2)}; scores {scores} have {scores[1]} classes, so they must be " +
                $"[{scores[1]}]");
        if (c.HasInput(2) && c.Constant(2) is { IsInteger: true }) throw c.Error("weights (input 2) must be float");
        var reduction = Reduction(c);
        float smoothing = c.Float(LabelSmoothingAttribute, 0);
        if (!(smoothing >= 0 && smoothing <= 1)) throw c.Error($"{LabelSmoothingAttribute} {smoothing} must be in [0, 1]");
        var loss = reduction == 0 ? labels : new TensorShape();
        return c.Node.Outputs.Count > 1 && c.Node.Outputs[1].Length > 0 ? [loss, scores] : [loss];
    }

    public void Build(OpBuildContext c)
    {
        var scores = c.InputShape(0);
        uint rows = checked((uint)(scores.ElementCount / scores[1]));
        uint reduction = Reduction(c);
        var rec = new Recorder(c.Device, c.Pipeline, (p, t, g, push) => c.Dispatch(p, t, g, push));
        var aux = c.Scratch("row_aux", [2, (int)rows]);
        var loss = reduction == 0 ? c.Output(0) : c.Scratch("row_loss", [(int)rows]);
        Rows(rec, c, Labels(c, (k, s, d) => c.Weight(k, s, d)), c.Input(0), c.HasInput(2) ? c.Input(2) : null, loss, aux,
            c.OutputCount > 1 ? c.Output(1) : null);
        if (reduction != 0) Reduce(rec, reduction, rows, loss, aux, c.Output(0), c.Scratch("total_weight", [1]));
    }

    public bool HasGradient(Node node, int inputIndex) => inputIndex == 0;

    public void BuildBackward(BackwardContext c)
    {
        if (c.InputGradient(0) is not { } ds) return;
        var dy = c.OutputGradient(0) ?? throw c.Error("the loss gradient is required for the scores gradient");
        var scores = c.InputShape(0);
        uint rows = checked((uint)(scores.ElementCount / scores[1]));
        uint reduction = Reduction(c);
        var rec = new Recorder(c.Device, c.Pipeline, (p, t, g, push) => c.Dispatch(p, t, g, push));
        var labels = Labels(c, c.Weight);
        Tensor? weights = c.HasInput(2) ? c.Input(2) : null;
        Tensor total = dy;   // read for mean only
        if (reduction == 2)
        {
            // The mean's divisor, the valid rows' weight, recomputed by the forward's kernels.
            var loss = c.Scratch("row_loss", [(int)rows]);
            var aux = c.Scratch("row_aux", [2, (int)rows]);
            total = c.Scratch("total_weight", [1]);
            Rows(rec, c, labels, c.Input(0), weights, loss, aux, null);
            Reduce(rec, reduction, rows, loss, aux, c.Scratch("loss", [1]), total);
        }
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new PipelineKey("softmax_cross_entropy_loss_backward", 6, Marshal.SizeOf<RowPush>(), local)
        {
            Constants = [weights is null ? 0u : 1u, HasIgnore(c) ? 1u : 0u, reduction],
        });
        c.Dispatch(pipeline, [c.Input(0), labels, weights ?? labels, dy, total, ds], c.Grid1D(rows, local), MakePush(c, rows));
    }

    /// <summary>What the forward and the backward share to record kernels (their contexts have no common base).</summary>
    private sealed record Recorder(GpuDevice Device, Func<PipelineKey, ComputePipeline> Pipeline,
        Action<ComputePipeline, IReadOnlyList<Tensor>, (uint, uint, uint), byte[]> DispatchBytes)
    {
        public void Dispatch<T>(ComputePipeline pipeline, IReadOnlyList<Tensor> tensors, (uint, uint, uint) groups, T push) where T
            : unmanaged =>
            DispatchBytes(pipeline, tensors, groups, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in push)).ToArray());
    }

    /// <summary>Per-row losses (or the none output), [weight, bad flag] per row, optional log_prob.</summary>
    private static void Rows(Recorder rec, OpContext c, Tensor labels, Tensor scores, Tensor? weights, Tensor loss, Tensor aux,
        Tensor? logProb)
    {
        uint rows = checked((uint)(c.InputShape(0).ElementCount / c.InputShape(0)[1]));
        uint local = rec.Device.DefaultWorkgroupSize;
        var pipeline = rec.Pipeline(new PipelineKey("softmax_cross_entropy_loss_rows", 6, Marshal.SizeOf<RowPush>(), local)
        {
            Constants = [weights is null ? 0u : 1u, HasIgnore(c) ? 1u : 0u, logProb is null ? 0u : 1u],
        });
        var (gx, gy) = rec.Device.Grid1D(rows, local);
        rec.Dispatch(pipeline, [scores, labels, weights ?? labels, loss, aux, logProb ?? loss], (gx, gy, 1u), MakePush(c, rows));
    }

    /// <summary>Sum or mean of the row losses into y[0]; the valid rows' weight into total[0].</summary>
    private static void Reduce(Recorder rec, uint reduction, uint rows, Tensor loss, Tensor aux, Tensor y, Tensor total)
    {
        var pipeline = rec.Pipeline(new PipelineKey("softmax_cross_entropy_loss_reduce", 4, 4, rec.Device.DefaultWorkgroupSize)
        {
            Constants = [reduction == 2 ? 1u : 0u],
        });
        rec.Dispatch(pipeline, [loss, aux, y, total], (1u, 1u, 1u), rows);
    }

    private static bool HasIgnore(OpContext c) => c.Node.Attributes.Has("ignore_index");

    /// <summary>The labels' GPU tensor; int64 constant labels are uploaded as float.</summary>
    private static Tensor Labels(OpContext c, Func<string, TensorShape, ReadOnlySpan<float>, Tensor> weight) =>
        c.Constant(1) is { IsInteger: true } k ? weight("labels", k.Shape, k.AsFloats())
        : c is OpBuildContext b ? b.Input(1) : ((BackwardContext)c).Input(1);

    /// <summary>0 = none, 1 = sum, 2 = mean.</summary>
    private static uint Reduction(OpContext c) => (c.String("reduction") ?? "mean") switch
    {
        "none" => 0,
        "sum" => 1,
        "mean" => 2,
        var r => throw c.Error($"reduction '{r}' is not one of none, sum, mean"),
    };

    private static RowPush MakePush(OpContext c, uint rows)
    {
        long ignore = c.Int("ignore_index", 0);
        if (ignore is < int.MinValue or > int.MaxValue) throw c.Unsupported($"ignore_index {ignore} does not fit in 32 bits");
        return new RowPush(rows, (uint)c.InputShape(0)[1],
            checked((uint)(c.InputShape(0).ElementCount / c.InputShape(0)[0] / c.InputShape(0)[1])),
            (int)ignore, c.Float(LabelSmoothingAttribute, 0));
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct RowPush(uint Rows, uint C, uint Inner, int IgnoreIndex, float Smoothing);
}
