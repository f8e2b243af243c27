using VulkanCnn.Graph;

namespace VulkanCnn.Ops;

/// <summary>
/// ONNX ConvTranspose, 2-D NCHW (shader <c>conv_transpose</c>): strides, pads, output_padding,
/// dilations, group, output_shape (pads derived from it), auto_pad, optional bias and a fused
/// activation. Weights [C, M/group, kH, kW] and bias are compile-time constants.
/// </summary>
public sealed class ConvTranspose : IOperator
{
    public IReadOnlyList<string> OpTypes { get; } = ["ConvTranspose"];

    public OperatorTraits Traits(Node node) => OperatorTraits.AcceptsFusedActivation;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var g = ConvGeometry.ForConvTranspose(c);
        RequireConstants(c);
        _ = c.Activation;
        return [g.OutputShape];
    }

    public void Build(OpBuildContext c)
    {
        var g = ConvGeometry.ForConvTranspose(c);
        RequireConstants(c);
        var activation = c.Activation;
        var bias = c.HasInput(2) ? c.Input(2) : c.Weight("zero_bias", [g.M], new float[g.M]);
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new Vulkan.KernelDescription("conv_transpose", 4, ConvParams.Size, local) { Activation = activation.Kind });
        c.Dispatch(pipeline, [c.Input(0), c.Input(1), bias, c.Output(0)], c.Grid1D(c.OutputShape(0).ElementCount, local), g.Params(activation));
    }

    private static void RequireConstants(OpContext c)
    {
        c.RequireConstant(1, "weights W");
        if (c.HasInput(2)) c.RequireConstant(2, "bias B");
    }
}
