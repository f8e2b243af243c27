using VulkanCnn.Ir;

namespace VulkanCnn.Ops;

/// <summary>
/// ONNX ConvTranspose, 1-D NCL and 2-D NCHW (shader <c>conv_transpose</c>; 3-D NCDHW: <see cref="Conv3d"/>): strides, pads, output_padding,
/// dilations, group, output_shape (pads derived from it), auto_pad, optional bias and a fused
/// activation. Weights [C, M/group, kH, kW] and bias may be constants or runtime tensors.
/// Backward through the dual convolution (dY-space → X-space, same weights): dX is that conv
/// (conv_gemm accumulating), dW its weight gradient with X as the output gradient.
/// </summary>
internal sealed class ConvTranspose : IOperator, IDifferentiable
{
    public IReadOnlyList<string> OpTypes { get; } = ["ConvTranspose"];

    public OperatorTraits Traits(Node node) => OperatorTraits.AcceptsFusedActivation | OperatorTraits.Fp16Storage;


    public IReadOnlyList<int>? PerSampleInputs(Node node) => [0];

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        _ = c.Activation;
        return [ConvGeometry3D.Is3D(c) ? ConvGeometry3D.ForConvTranspose(c).OutputShape : ConvGeometry.ForConvTranspose(c).OutputShape];
    }

    public void Build(OpBuildContext c)
    {
        var activation = c.Activation;
        if (ConvGeometry3D.Is3D(c))
        {
            var g3 = ConvGeometry3D.ForConvTranspose(c);
            Conv3d.TransposeForward(c, g3, c.Input(0), c.Input(1),
                c.HasInput(2) ? c.Input(2) : c.Weight("zero_bias", [g3.M], new float[g3.M]), c.Output(0), activation);
            return;
        }
        var g = ConvGeometry.ForConvTranspose(c);
        var bias = c.HasInput(2) ? c.Input(2) : c.Weight("zero_bias", [g.M], new float[g.M]);
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new Vulkan.PipelineKey("conv_transpose", 4, ConvParams.Size,
            local)
        { Activation = (uint)activation.Kind });
        c.Dispatch(pipeline, [c.Input(0), c.Input(1), bias, c.Output(0)], c.Grid1D(c.OutputShape(0).ElementCount, local),
            g.Params(activation));
    }

    public bool HasGradient(Node node, int inputIndex) => inputIndex is >= 0 and <= 2;

    public bool DifferentiatesFused(Node node, FusedActivation activation) => BackwardActivation.Supports(activation);

    public void BuildBackward(BackwardContext c)
    {
        if (ConvGeometry3D.Is3D(c))
        {
            Conv3d.TransposeBackward(c, ConvGeometry3D.ForConvTranspose(c));
            return;
        }
        var g = ConvGeometry.ForConvTranspose(c);
        if (ConvKernels.BeginBackward(c, g, transposedDz: false) is not (var s, var dz, var dx, var dw, var db)) return;
        // The conv that maps dz [N, M, OH, OW] back onto X [N, C, H, W] through the same taps; its
        // weights [C, M/group, kH, kW] are ConvTranspose's W as they are stored.
        int ekh = (g.KH - 1) * g.DH + 1, ekw = (g.KW - 1) * g.DW + 1;
        var dual = new ConvGeometry(g.N, g.M, g.OH, g.OW, g.C, g.H, g.W, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW,
            g.PadTop, g.PadLeft, (g.H - 1) * g.SH + ekh - g.OH - g.PadTop, (g.W - 1) * g.SW + ekw - g.OW - g.PadLeft, g.Group);
        if (dx is not null)
        {
            var w = ConvKernels.GemmWeights(s, dual, null, c.Input(1), "input_grad_weights");
            ConvKernels.Gemm(s, dual, dz, w, dz, dx, FusedActivation.None, accumulate: true, "input_grad_packed");
        }
        if (dw is not null)
        {
            // dual's weight gradient: its input is dz, its output gradient is X (transposed layout, no activation).
            var xt = ConvKernels.Dz(s, dual, c.Input(0), c.Input(0), FusedActivation.None, transposed: true, "x_transposed");
            ConvKernels.WeightGradient(s, dual, dz, xt, dw);
        }
        if (db is not null) ConvKernels.BiasGradient(s, g, dz, transposed: false, db);
    }
}
