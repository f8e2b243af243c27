using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// BatchNormalization over axis 1.
/// <list type="bullet">
/// <item>Inference with constant parameters: scale, B, mean and variance are folded on the CPU into
/// a per-channel scale and shift, so the kernel (<c>batch_norm</c>) is one FMA per element plus the
/// fused activation. <see cref="FoldParameters"/> is shared with the graph compiler, which folds a
/// BatchNormalization into a preceding Conv.</item>
/// <item>Inference with runtime parameters (a trainer's evaluation pass): <c>batch_norm_fold</c>
/// computes gamma / sqrt(var + eps) on the GPU and <c>batch_norm</c> applies it centred.</item>
/// <item>Training (<see cref="OpBuildContext.Training"/>, or ONNX training_mode=1):
/// <c>batch_norm_stats</c> takes the batch mean and biased variance per channel; the output is
/// normalised with them. Under <see cref="OpBuildContext.Training"/> the running mean/var INPUTS
/// are updated in place (running · momentum + batch · (1 − momentum)); the optional
/// running_mean/running_var outputs (opset 14) receive the same values. The running variance
/// blends the UNBIASED batch variance (M/(M−1), M = values per channel), as PyTorch does, so that
/// a model trained here evaluates like one trained there; the normalisation itself uses the
/// biased one, as both ONNX and PyTorch do. An ONNX training_mode=1 node outside the trainer
/// follows the ONNX spec instead: its running_var output blends the biased variance.</item>
/// </list>
/// Backward (<c>batch_norm_backward_*</c>): dX, dscale, dB; through the batch statistics in
/// training, the per-channel affine map in inference. A fused Relu is differentiated through the
/// saved output; other fused activations have no backward.
/// </summary>
internal sealed class BatchNormalization : IOperator, IDifferentiable
{
    public IReadOnlyList<string> OpTypes { get; } = ["BatchNormalization"];

    public OperatorTraits Traits(Node node) => OperatorTraits.AcceptsFusedActivation | OperatorTraits.Fp16Storage;


    /// <summary>Per sample at inference only: training statistics (training_mode, or the running-stat outputs) span the batch.</summary>
    public IReadOnlyList<int>? PerSampleInputs(Node node) =>
        node.Attributes.Int("training_mode", 0) == 0 && node.Outputs.Count(o => o.Length > 0) == 1 ? [0] : null;

    private static readonly string[] ParameterNames = ["scale", "B", "input_mean", "input_var"];

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var x = c.InputShape(0);
        if (c.Int("spatial", 1) != 1) throw c.Unsupported("spatial=0 (per-activation statistics, opset < 9) is not supported");
        if (c.Node.Outputs.Skip(3).Any(o => o.Length > 0))
            throw c.Unsupported("the saved_mean/saved_var outputs (opset < 14) are not supported");
        if (x.Rank < 2) throw c.Error($"input {x} must be N x C x … (rank ≥ 2)");
        for (int i = 1; i <= 4; i++)
        {
            var p = c.InputShape(i);
            if (p.Rank != 1 || p[0] != x[1])
                throw c.Error($"{ParameterNames[i - 1]} (input {i}) has shape {p}; input {x} has {x[1]} channels, so it must be [{x[1]}]");
            if (c.Constant(i) is { IsInteger: true })
                throw c.Error($"{ParameterNames[i - 1]} (input {i}) must be float");
        }
        if (AllConstant(c))
        {
            try { Fold(c); }
            catch (ArgumentException e) { throw c.Error(e.Message); }
        }
        bool running = c.Node.Outputs.Skip(1).Take(2).Any(o => o.Length > 0);
        return running ? [x, new TensorShape(x[1]), new TensorShape(x[1])] : [x];
    }

    public void Build(OpBuildContext c)
    {
        var x = c.InputShape(0);
        if (BatchStatistics(c, c.Training))
        {
            BuildTraining(c);
            return;
        }
        if (c.Node.Outputs.Skip(1).Any(o => o.Length > 0))
            throw c.Error("the running_mean/running_var outputs exist only in training mode (training_mode=1)");
        if (AllConstant(c))
        {
            var (scale, shift) = Fold(c);
            // fp32 even for an fp16 node: batch_norm reads its per-channel scale and shift as float.
            Apply(c, c.Weight("scale", [x[1]], scale, DataType.Float32), c.Weight("shift", [x[1]], shift, DataType.Float32),
                center: null);
            return;
        }
        // Runtime parameters: fold on the GPU, apply centred on the running mean.
        Apply(c, FoldOnGpu(c, c.Input(4)), c.Input(2), center: c.Input(3));
    }

    private static void BuildTraining(OpBuildContext c)
    {
        var x = c.InputShape(0);
        int channels = x[1];
        var mean = c.Scratch("batch_mean", [channels]);
        var variance = c.Scratch("batch_var", [channels]);
        bool outputs = c.Node.Outputs.Count > 2 && c.Node.Outputs[1].Length > 0 && c.Node.Outputs[2].Length > 0;
        if (!outputs && c.Node.Outputs.Skip(1).Any(o => o.Length > 0))
            throw c.Unsupported("running_mean and running_var outputs must be requested together");
        Statistics(c, mean, variance, inPlace: c.Training, outputs);
        Apply(c, FoldOnGpu(c, variance), c.Input(2), center: mean);
    }

    /// <summary>Batch mean and biased variance into <paramref name="mean"/> / <paramref name="variance"/>, and the running
    /// update.</summary>
    private static void Statistics(OpBuildContext c, Tensor mean, Tensor variance, bool inPlace, bool outputs)
    {
        var x = c.InputShape(0);
        var (inner, m) = Extent(c, x, batchStatistics: true);
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new PipelineKey("batch_norm_stats", 7, Marshal.SizeOf<StatsPush>(), local)
        {
            Constants = [inPlace ? 1u : 0u, outputs ? 1u : 0u, c.Training ? 1u : 0u, inner % 4 == 0 ? 1u : 0u],
        });
        // Unused running bindings alias the statistics they would not touch.
        Tensor runMean = inPlace || outputs ? c.Input(3) : mean, runVar = inPlace || outputs ? c.Input(4) : variance;
        Tensor outMean = outputs ? c.Output(1) : mean, outVar = outputs ? c.Output(2) : variance;
        c.Dispatch(pipeline, [c.Input(0), mean, variance, runMean, runVar, outMean, outVar], c.Grid1D((long)x[1] * local, local),
            new StatsPush((uint)x[1], inner, m, c.Float("momentum", 0.9f)));
    }

    private static Tensor FoldOnGpu(OpBuildContext c, Tensor variance)
    {
        int channels = c.InputShape(0)[1];
        uint local = c.Device.DefaultWorkgroupSize;
        var scale = c.Scratch("scale", [channels]);
        var pipeline = c.Pipeline(new PipelineKey("batch_norm_fold", 3, 8, local));
        c.Dispatch(pipeline, [c.Input(1), variance, scale], c.Grid1D(channels, local),
            new FoldPush((uint)channels, c.Float("epsilon", 1e-5f)));
        return scale;
    }

    private static void Apply(OpBuildContext c, Tensor scale, Tensor shift, Tensor? center)
    {
        var x = c.InputShape(0);
        var act = c.Activation;
        var (inner, _) = Extent(c, x, batchStatistics: false);
        long count = x.ElementCount;
        uint local = c.Device.DefaultWorkgroupSize;
        bool planar = Planar(c.Device, x, inner, local), vec4 = planar && inner % 4 == 0;
        var pipeline = c.Pipeline(new PipelineKey("batch_norm", 5, Marshal.SizeOf<ApplyPush>(), local)
        {
            Activation = (uint)act.Kind,
            Constants = [planar ? 1u : 0u, center is null ? 0u : 1u, vec4 ? 1u : 0u],
        });
        c.Dispatch(pipeline, [c.Input(0), scale, shift, c.Output(0), center ?? shift], Groups(c.Device, x, inner, local, planar, vec4),
            new ApplyPush(checked((uint)count), (uint)x[1], inner, act.Alpha, act.Beta));
    }

    public bool HasGradient(Node node, int inputIndex) => inputIndex is 0 or 1 or 2;

    /// <summary>The backward masks by the saved output, which only Relu allows.</summary>
    public bool DifferentiatesFused(Node node, FusedActivation activation) => activation.Kind is ActivationKind.None or ActivationKind.Relu;

    public void BuildBackward(BackwardContext c)
    {
        Tensor? dx = c.InputGradient(0), dgamma = c.InputGradient(1), dbeta = c.InputGradient(2);
        if (dx is null && dgamma is null && dbeta is null) return;
        var dy = c.OutputGradient(0) ?? throw c.Error("the output gradient is required for the input gradients");
        var act = c.Activation;
        if (!DifferentiatesFused(c.Node, act))
            throw c.Unsupported($"backward through a fused {act.Kind} is not implemented (only Relu)");
        bool relu = act.Kind == ActivationKind.Relu;
        var x = c.InputShape(0);
        int channels = x[1];
        bool training = BatchStatistics(c, c.Training);
        var (inner, m) = Extent(c, x, training);
        uint local = c.Device.DefaultWorkgroupSize;

        Tensor mean = c.Input(3), variance = c.Input(4);
        if (training)
        {
            // The forward's batch statistics, kept in its scratch tensors (BuildTraining always makes them).
            mean = c.ForwardScratch("batch_mean") ?? throw c.Error("the forward pass kept no batch statistics");
            variance = c.ForwardScratch("batch_var") ?? throw c.Error("the forward pass kept no batch statistics");
        }

        var coef = c.Scratch("coefficients", [3, channels]);
        var reduce = c.Pipeline(new PipelineKey("batch_norm_backward_reduce", 9, Marshal.SizeOf<StatsPush>(), local)
        {
            Constants = [training ? 1u : 0u, relu ? 1u : 0u, dgamma is null ? 0u : 1u, dbeta is null ? 0u : 1u, inner % 4 == 0 ? 1u : 0u],
        });
        c.Dispatch(reduce, [c.Input(0), c.Output(0), dy, mean, variance, c.Input(1), coef, dgamma ?? coef, dbeta ?? coef],
            c.Grid1D((long)channels * local, local), new StatsPush((uint)channels, inner, m, c.Float("epsilon", 1e-5f)));
        if (dx is null) return;

        bool planar = Planar(c.Device, x, inner, local), vec4 = planar && inner % 4 == 0;
        var input = c.Pipeline(new PipelineKey("batch_norm_backward_input", 6, Marshal.SizeOf<InputPush>(), local)
        {
            Constants = [planar ? 1u : 0u, relu ? 1u : 0u, vec4 ? 1u : 0u],
        });
        c.Dispatch(input, [c.Input(0), c.Output(0), dy, mean, coef, dx], Groups(c.Device, x, inner, local, planar, vec4),
            new InputPush(checked((uint)x.ElementCount), (uint)channels, inner));
    }

    /// <summary>Set to 1 on a node that keeps normalising with its running statistics (and leaves them alone) while the rest of
    /// the network trains: a frozen BatchNorm in fine-tuning (<see cref="Nn.GraphModule.FreezeBatchNorm"/>).</summary>
    public const string FrozenStatisticsAttribute = "vkcnn.frozen_statistics";

    /// <summary>Batch statistics: the training flag of the build (unless the node's statistics are frozen), or ONNX
    /// training_mode=1.</summary>
    private static bool BatchStatistics(OpContext c, bool training) =>
        training && c.Int(FrozenStatisticsAttribute, 0) == 0 || c.Int("training_mode", 0) != 0;

    /// <summary>Values per (n, c) plane and per channel (M = N · plane); training needs M &gt; 1.</summary>
    private static (uint Inner, uint M) Extent(OpContext c, TensorShape x, bool batchStatistics)
    {
        long inner = x.ElementCount / x[0] / x[1];
        long m = inner * x[0];
        if (m <= 1 && batchStatistics)
            throw c.Error($"input {x} has one value per channel: batch statistics need more than one");
        return (checked((uint)inner), checked((uint)m));
    }

    /// <summary>Planes of at least a workgroup: x within the plane, y over planes (no per-element division).</summary>
    private static bool Planar(GpuDevice device, TensorShape x, uint inner, uint local) =>
        inner >= local && x.ElementCount / inner <= device.Info.Limits.MaxWorkGroupCount[1];

    /// <summary>Planar: x over the plane (four elements per invocation with <paramref name="vec4"/>), y over the planes.</summary>
    private static (uint, uint, uint) Groups(GpuDevice device, TensorShape x, uint inner, uint local, bool planar, bool vec4 = false)
    {
        uint perPlane = vec4 ? inner / 4 : inner;
        if (planar) return ((perPlane + local - 1) / local, (uint)(x.ElementCount / inner), 1u);
        var (gx, gy) = device.Grid1D(x.ElementCount, local);
        return (gx, gy, 1u);
    }

    private static bool AllConstant(OpContext c) => Enumerable.Range(1, 4).All(i => c.Constant(i) is not null);

    private static (float[] Scale, float[] Shift) Fold(OpContext c) => FoldParameters(
        c.RequireConstant(1, "scale").AsFloats(), c.RequireConstant(2, "B").AsFloats(),
        c.RequireConstant(3, "input_mean").AsFloats(), c.RequireConstant(4, "input_var").AsFloats(),
        c.Float("epsilon", 1e-5f));

    /// <summary>
    /// Folds inference batch-norm parameters into y = x · Scale[c] + Shift[c], with
    /// Scale = scale / sqrt(var + epsilon) and Shift = B − mean · Scale (computed in double).
    /// </summary>
    /// <exception cref="ArgumentException">The four arrays differ in length, or a variance + epsilon is not positive.</exception>
    public static (float[] Scale, float[] Shift) FoldParameters(ReadOnlySpan<float> scale, ReadOnlySpan<float> bias,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, float epsilon)
    {
        int n = scale.Length;
        if (bias.Length != n || mean.Length != n || variance.Length != n)
            throw new ArgumentException($"BatchNormalization parameters differ in length: scale {n}, B {bias.Length}, mean " +
                $"{mean.Length}, var {variance.Length}.");
        var s = new float[n];
        var t = new float[n];
        for (int i = 0; i < n; i++)
        {
            double denominator = (double)variance[i] + epsilon;
            if (!(denominator > 0))
                throw new ArgumentException($"BatchNormalization channel {i}: var + epsilon = {denominator} is not positive.",
                    nameof(variance));
            double k = scale[i] / Math.Sqrt(denominator);
            s[i] = (float)k;
            t[i] = (float)(bias[i] - mean[i] * k);
        }
        return (s, t);
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct ApplyPush(uint Count, uint C, uint Inner, float Alpha, float Beta);

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct StatsPush(uint C, uint Inner, uint M, float Scalar);

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct FoldPush(uint C, float Epsilon);

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct InputPush(uint Count, uint C, uint Inner);
}
