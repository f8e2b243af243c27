using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>How a Conv node is computed; each is its own shader (<c>conv_*</c>).</summary>
internal enum ConvStrategy
{
    /// <summary><c>conv_direct</c>: one output per invocation; supports everything (the reference).</summary>
    Direct,
    /// <summary><c>conv_pack</c> + <c>conv_gemm</c>: implicit GEMM with register blocking and vec4 loads.</summary>
    Gemm,
    /// <summary><c>conv_1x1</c>: 1x1 kernel, stride 1, no padding, as a plain GEMM on NCHW.</summary>
    Pointwise,
    /// <summary><c>conv_depthwise</c>: group == C (any channel multiplier), rows of outputs sharing their input span.</summary>
    Depthwise,
    /// <summary><c>winograd_*</c> F(2x2, 3x3): 3x3 stride 1, constant weights (<see cref="ConvWinograd"/>).</summary>
    WinogradF2,
    /// <summary><c>winograd_*</c> F(4x4, 3x3): fewer multiplies than F(2,3), a larger rounding error.</summary>
    WinogradF4,
    /// <summary><c>conv_gemm_tiled</c>: implicit GEMM tiled through shared memory for GPUs (<see cref="ConvTiled"/>).</summary>
    GemmTiled,
    /// <summary><c>conv_gemm_tiled</c> with split-K + <c>conv_gemm_splitk</c>: for deep layers with few output tiles.</summary>
    GemmTiledSplitK,
    /// <summary><c>conv3d_direct</c>: a 3-D (NCDHW) convolution, one output per invocation (<see cref="Conv3d"/>).</summary>
    Direct3D,
}

/// <summary>Conv's variants (<see cref="ConvStrategy"/>): what each can compute, and the rule per device class
/// that <see cref="VariantSelector"/> falls back on. The node attribute <c>vkcnn.variant</c> (direct, gemm, 1x1,
/// depthwise) forces one for tests and benchmarks; the selector checks it.</summary>
internal static class ConvStrategySelector
{
    public const string Attribute = VariantSelector.Attribute;

    /// <summary>The variant names, the reference (<c>direct</c>) first.</summary>
    public static IReadOnlyList<string> Names { get; } = Enum.GetValues<ConvStrategy>().Select(Name).ToList();

    public static ConvStrategy Parse(string name) => Enum.GetValues<ConvStrategy>().First(v => Name(v) == name);

    /// <summary>The rule: depthwise, 1x1, Winograd for 3x3 stride-1 layers with constant weights and at least 16 channels in
    /// and out (below that the transforms cost more than the multiplies saved; ncnn draws the same line), else gemm.
    /// F(4,3) where there are at least 16 of its tiles, F(2,3) on small images (7x7 at batch 1: 4 tiles), where F(4,3)'s
    /// transformed weights (36/9 = 4x the kernel's; F(2,3): 16/9) read for few tiles cost more than its fewer multiplies save
    /// (ConvBenchmarks on lavapipe: 512@7 F(2,3) 2.2x gemm, F(4,3) 2.0x; 256@14 F(4,3) 4.1x, F(2,3) 1.7x).
    /// Runtime weights (training) stay on gemm by default: with the per-run GPU weight transform, the small CNN's training
    /// step measured no faster (188-201 ms gemm vs 226-252 ms, alternating on a loaded host); Measure or Fixed can pick it.
    /// On GPU-class devices gemm_tiled takes the place of gemm and 1x1, with split-K below 64 output tiles when K ≥ 512.
    /// </summary>
    public static ConvStrategy Choose(ConvGeometry g, DeviceInfo device, bool constantWeights = false,
        DataType storage = DataType.Float32)
    {
        if (g.IsDepthwise && Refusal(ConvStrategy.Depthwise, g, device) is null) return ConvStrategy.Depthwise;
        // GPUs: the shared-memory tiles in place of gemm and 1x1, which were shaped for a CPU driver (not yet measured on a GPU:
        // Tuning.Measure times both).
        // Deep layers with few output tiles (ResNet's last stages at batch 1: 8 tiles of 64x64) split K to fill the device.
        bool tiled = device.Type != DeviceKind.Cpu && Refusal(ConvStrategy.GemmTiled, g, device) is null;
        var gpuGemm = ConvTiled.Tiles(g) < 64 && g.CG * g.KH * g.KW >= 512 && Refusal(ConvStrategy.GemmTiledSplitK, g, device) is null
            ? ConvStrategy.GemmTiledSplitK : ConvStrategy.GemmTiled;
        if (g.IsPointwise) return tiled ? gpuGemm : ConvStrategy.Pointwise;
        if (constantWeights && g.C >= 16 && g.M >= 16 && ConvWinograd.Refusal(g) is null)
        {
            var preferred = (long)g.N * ((g.OH + 3) / 4) * ((g.OW + 3) / 4) >= 16 ? ConvStrategy.WinogradF4 : ConvStrategy.WinogradF2;
            // A layer too large for the preferred tile's buffers may fit the other's (F(2,3) expands the data 16/4 = 4x,
            // F(4,3) 36/16 = 2.25x), else gemm.
            var other = preferred == ConvStrategy.WinogradF4 ? ConvStrategy.WinogradF2 : ConvStrategy.WinogradF4;
            foreach (var s in new[] { preferred, other })
                if (Refusal(s, g, device, storage) is null) return s;
        }
        return tiled ? gpuGemm : ConvStrategy.Gemm;
    }

    public static string Name(ConvStrategy s) => s switch
    {
        ConvStrategy.Direct => "direct",
        ConvStrategy.Gemm => "gemm",
        ConvStrategy.Pointwise => "1x1",
        ConvStrategy.Depthwise => "depthwise",
        ConvStrategy.WinogradF2 => "winograd_f2x3",
        ConvStrategy.WinogradF4 => "winograd_f4x3",
        ConvStrategy.GemmTiled => "gemm_tiled",
        ConvStrategy.Direct3D => Conv3d.Variant,
        _ => "gemm_tiled_splitk",
    };

    /// <summary>F(4,3) keeps its transformed tiles and products in the node's storage; its output transform scales them by up to
    /// 8 per axis, so in half they cost 3e-3–1.2e-2 of max|y| (Fp16ConvTests), beyond the fp16 bound of 2e-3.</summary>
    private const string F4HalfRefusal = "stores its transformed tiles in the node's storage, and its output transform amplifies " +
        "fp16 rounding beyond the fp16 bound; fp16 nodes use winograd_f2x3";

    /// <summary>Why <paramref name="s"/> cannot compute <paramref name="g"/>, or null when it can.</summary>
    public static string? Refusal(ConvStrategy s, ConvGeometry g) => s switch
    {
        ConvStrategy.Pointwise when g.KH != 1 || g.KW != 1 || g.SH != 1 || g.SW != 1 || g.PadTop != 0 || g.PadLeft != 0 || g.PadBottom != 0
            || g.PadRight != 0 =>
            "needs a 1x1 kernel with stride 1 and no padding",
        ConvStrategy.Depthwise when g.CG != 1 || g.Group != g.C => "needs group == input channels (one input channel per group)",
        ConvStrategy.Depthwise when g.KW > 7 || g.SW > 2 || g.DW > 2 => "supports kernel width <= 7 and stride, dilation <= 2 along x",
        ConvStrategy.WinogradF2 or ConvStrategy.WinogradF4 => ConvWinograd.Refusal(g),
        ConvStrategy.Direct3D => "needs a 3-D (NCDHW) convolution",
        _ => null,
    };

    /// <summary><see cref="Refusal(ConvStrategy, ConvGeometry)"/> on a device: Winograd's transformed tensors must each fit one
    /// storage buffer (grids are split over the axes the device allows).</summary>
    public static string? Refusal(ConvStrategy s, ConvGeometry g, DeviceInfo? device, DataType storage = DataType.Float32) =>
        Refusal(s, g) ?? (s == ConvStrategy.WinogradF4 && storage == DataType.Float16 ? F4HalfRefusal : null) ??
        (s is ConvStrategy.GemmTiled or ConvStrategy.GemmTiledSplitK && device is not null
            ? ConvTiled.Refusal(g, device, s == ConvStrategy.GemmTiledSplitK) : null) ??
        (s is ConvStrategy.WinogradF2 or ConvStrategy.WinogradF4 && device is not null
            && ConvWinograd.LargestBufferBytes(g, s == ConvStrategy.WinogradF2 ? 2 : 4) is var bytes
            && (ulong)bytes > device.Limits.MaxStorageBufferRange
                ? $"needs {bytes / 1048576.0:0.0} MiB of transformed tensors in one buffer; the device binds at most " +
                    $"{device.Limits.MaxStorageBufferRange / 1048576.0:0.0} MiB"
                : s is ConvStrategy.WinogradF2 or ConvStrategy.WinogradF4 && device is not null
                    && (g.N > device.Limits.MaxWorkGroupCount[2] || (g.M + 3) / 4 > device.Limits.MaxWorkGroupCount[1]
                        || (g.C + 3) / 4 > device.Limits.MaxWorkGroupCount[1])
                    ? "puts images on the z and channel blocks on the y grid axis, beyond the device's workgroup counts"
                    : null);
}

/// <summary>
/// ONNX Conv, 2-D NCHW: kernel_shape, strides, pads, dilations, group, auto_pad, optional bias and a
/// fused activation. Constant weights are repacked per strategy at build time; runtime weights
/// (training) are read as they are (direct, depthwise) or packed by a GPU kernel before the conv.
/// Backward: dX (conv_backward_input), dW (conv_backward_weight), dB (conv_backward_bias), through
/// Relu / LeakyRelu / Clip / Sigmoid / Tanh fused activations.
/// A fourth input, which only compilation adds (Passes/FuseResidualAdds), is a residual added before the activation:
/// y = act(conv(x) + bias + r), r in the output's shape; every variant adds it in its epilogue. Inference only.
/// </summary>
internal sealed class Conv : IOperator, IDifferentiable, IKernelVariants
{
    private const int DepthwisePixels = 8;

    /// <summary>The residual input a fused Add leaves on the conv.</summary>
    public const int ResidualInput = 3;

    public IReadOnlyList<string> OpTypes { get; } = ["Conv"];

    public IReadOnlyList<string> Variants => ConvStrategySelector.Names;

    public string? Refusal(string variant, OpContext node, GpuDevice? device)
    {
        if (ConvGeometry3D.Is3D(node)) return variant == Conv3d.Variant ? null : "computes 1-D and 2-D convolutions; this one is 3-D";
        return ConvStrategySelector.Refusal(ConvStrategySelector.Parse(variant), ConvGeometry.ForConv(node), device?.Info, node.Storage);
    }

    public string Heuristic(OpContext node, GpuDevice device) => ConvGeometry3D.Is3D(node) ? Conv3d.Variant :
        ConvStrategySelector.Name(ConvStrategySelector.Choose(ConvGeometry.ForConv(node), device.Info,
            constantWeights: node.Constant(1) is { Floats: not null }, node.Storage));

    /// <summary>F(4,3)'s transforms scale by up to 8 and 1/24: its stated bound is 5e-4 (measured ≤ 7e-6 on ResNet-18's layers).
    /// </summary>
    public double ErrorBound(string variant) => variant == "winograd_f4x3" ? 5e-4 : IKernelVariants.OpErrorBound;

    public OperatorTraits Traits(Node node) => OperatorTraits.AcceptsFusedActivation | OperatorTraits.Fp16Storage;

    /// <summary>The input and a fused residual hold one image each per sample; weights and bias are shared.</summary>
    public IReadOnlyList<int>? PerSampleInputs(Node node) => [0, ResidualInput];

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var output = ConvGeometry3D.Is3D(c) ? ConvGeometry3D.ForConv(c).OutputShape : ConvGeometry.ForConv(c).OutputShape;
        _ = c.Activation;
        if (c.HasInput(ResidualInput) && c.InputShape(ResidualInput) != output)
            throw c.Error($"the fused residual input has shape {c.InputShape(ResidualInput)}, not the output's {output}");
        return [output];
    }

    public void Build(OpBuildContext c)
    {
        var act = c.Activation;
        var s = KernelSink.Of(c);
        var residual = c.HasInput(ResidualInput) ? c.Input(ResidualInput) : null;
        if (ConvGeometry3D.Is3D(c))
        {
            var g3 = ConvGeometry3D.ForConv(c);
            Conv3d.Forward(s, g3, c.Input(0), c.Input(1), c.HasInput(2) ? c.Input(2) : c.Weight("zero_bias", [g3.M], new float[g3.M]),
                c.Output(0), act, residual);
            return;
        }
        var g = ConvGeometry.ForConv(c);
        var bias = c.HasInput(2) ? c.Input(2) : c.Weight("zero_bias", [g.M], new float[g.M]);
        uint hasResidual = residual is null ? 0u : 1u;
        switch (ConvStrategySelector.Parse(c.Variant ?? throw c.Error("was built without a variant")))
        {
            case ConvStrategy.Gemm:
                ConvKernels.Gemm(s, g, c.Input(0), ConvKernels.GemmWeights(s, g, c.Constant(1), c.Input(1), "gemm_weights"), bias,
                    c.Output(0), act, false, "packed_input", residual);
                break;
            case ConvStrategy.Pointwise:
                ConvKernels.Pointwise(s, g, c.Input(0), ConvKernels.GemmWeights(s, g, c.Constant(1), c.Input(1), "1x1_weights"), bias,
                    c.Output(0), act, residual);
                break;
            case ConvStrategy.Depthwise: BuildDepthwise(c, s, g, act, bias, residual); break;
            case ConvStrategy.GemmTiled or ConvStrategy.GemmTiledSplitK:
                ConvTiled.Build(s, g, c.Input(0), c.Input(1), bias, c.Output(0), act, residual,
                    splitK: c.Variant == "gemm_tiled_splitk");
                break;
            case ConvStrategy.WinogradF2 or ConvStrategy.WinogradF4:
                int tileM = c.Variant == "winograd_f2x3" ? 2 : 4;
                ConvWinograd.Build(s, g, tileM, c.Constant(1), c.Input(1), c.Input(0), bias, c.Output(0), act, residual);
                break;
            default:
                uint local = c.Device.DefaultWorkgroupSize;
                var direct = c.Pipeline(new PipelineKey("conv_direct", 5, ConvParams.Size, local)
                { Activation = (uint)act.Kind, Constants = [hasResidual] });
                c.Dispatch(direct, [c.Input(0), c.Input(1), bias, c.Output(0), residual ?? bias],
                    c.Grid1D(c.OutputShape(0).ElementCount, local),
                    g.Params(act));
                break;
        }
    }

    private static void BuildDepthwise(OpBuildContext c, KernelSink s, ConvGeometry g, FusedActivation act, Tensor bias,
        Tensor? residual)
    {
        // One lane per (image·channel, row, block of columns), all along x: CPU drivers vectorise x only.
        uint local = c.Device.DefaultWorkgroupSize, blocksX = (uint)((g.OW + DepthwisePixels - 1) / DepthwisePixels);
        long lanes = (long)g.N * g.M * g.OH * blocksX;
        var pipeline = c.Pipeline(new PipelineKey("conv_depthwise", 5, ConvParams.Size, local)
        { Activation = (uint)act.Kind, Constants = [(uint)g.KW, (uint)g.SW, (uint)g.DW, residual is null ? 0u : 1u] });
        c.Dispatch(pipeline, [c.Input(0), c.Input(1), bias, c.Output(0), residual ?? bias], c.Grid1D(lanes, local),
            g.Params(act, blocksX));
    }

    public bool HasGradient(Node node, int inputIndex) => inputIndex is >= 0 and <= ResidualInput;

    public bool DifferentiatesFused(Node node, FusedActivation activation) => BackwardActivation.Supports(activation);

    public void BuildBackward(BackwardContext c)
    {
        if (c.HasInput(ResidualInput))
            throw c.Error("has a residual Add fused for inference; training differentiates the graph before that fusion");
        if (ConvGeometry3D.Is3D(c))
        {
            Conv3d.Backward(c, ConvGeometry3D.ForConv(c));
            return;
        }
        var g = ConvGeometry.ForConv(c);
        // A conv on the GPU tiles (gemm_tiled, gemm_tiled_splitk) takes its gradients through tiles too, from an NCHW dz.
        bool tiled = c.Variant is "gemm_tiled" or "gemm_tiled_splitk";
        if (ConvKernels.BeginBackward(c, g, transposedDz: !tiled) is not (var s, var dz, var dx, var dw, var db)) return;
        if (dx is not null)
        {
            if (tiled) ConvTiled.InputGradient(s, g, dz, c.Input(1), dx);
            else ConvKernels.InputGradient(s, g, dz, c.Input(1), dx);
        }
        if (dw is not null)
        {
            if (tiled) ConvTiled.WeightGradient(s, g, c.Input(0), dz, dw);
            else ConvKernels.WeightGradient(s, g, c.Input(0), dz, dw);
        }
        if (db is not null) ConvKernels.BiasGradient(s, g, dz, transposed: !tiled, db);
    }
}
