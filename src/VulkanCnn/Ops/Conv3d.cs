using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// The 3-D (NCDHW) kernels of Conv and ConvTranspose (<c>conv3d_*</c>, <c>conv_transpose3d</c>): one output, input or weight
/// element per invocation, summing its taps in a fixed order, for every attribute combination (the variant <c>direct_3d</c>).
/// Backward: dz through the fused activation and the bias gradient reuse the 2-D element-wise kernels over the flattened
/// output; dX gathers (one writer per element), dW sums per weight element; ConvTranspose's backward is the dual convolution.
/// </summary>
internal static class Conv3d
{
    public const string Variant = "direct_3d";

    private static ComputePipeline Pipeline(KernelSink s, string shader, int buffers, FusedActivation act, bool residual = false) =>
        s.Pipeline(new PipelineKey(shader, buffers, Conv3dParams.Size, s.Device.DefaultWorkgroupSize)
        { Activation = (uint)act.Kind, Constants = buffers == 5 ? [residual ? 1u : 0u] : [] });

    /// <summary>y = act(conv(x, w) + bias (+ residual)).</summary>
    public static void Forward(KernelSink s, ConvGeometry3D g, Tensor x, Tensor w, Tensor bias, Tensor y, FusedActivation act,
        Tensor? residual)
    {
        s.Dispatch(Pipeline(s, "conv3d_direct", 5, act, residual is not null), [x, w, bias, y, residual ?? bias],
            s.Grid1D(g.OutputShape.ElementCount, s.Device.DefaultWorkgroupSize), g.Params(act));
    }

    /// <summary>dX += the gather of dz through w; dW += the correlation of x with dz.</summary>
    public static void Gradients(KernelSink s, ConvGeometry3D g, Tensor x, Tensor w, Tensor dz, Tensor? dx, Tensor? dw)
    {
        uint local = s.Device.DefaultWorkgroupSize;
        if (dx is not null)
            s.Dispatch(Pipeline(s, "conv3d_backward_input", 3, FusedActivation.None), [dz, w, dx],
                s.Grid1D((long)g.N * g.C * g.Size[0] * g.Size[1] * g.Size[2], local), g.Params(FusedActivation.None));
        if (dw is not null)
            s.Dispatch(Pipeline(s, "conv3d_backward_weight", 3, FusedActivation.None), [x, dz, dw],
                s.Grid1D((long)g.M * g.CG * g.Kernel[0] * g.Kernel[1] * g.Kernel[2], local), g.Params(FusedActivation.None));
    }

    /// <summary>Conv's backward: dz, then dX, dW and dB.</summary>
    public static void Backward(BackwardContext c, ConvGeometry3D g)
    {
        if (ConvKernels.BeginBackward(c, g.Flat, transposedDz: false) is not (var s, var dz, var dx, var dw, var db)) return;
        Gradients(s, g, c.Input(0), c.Input(1), dz, dx, dw);
        if (db is not null) ConvKernels.BiasGradient(s, g.Flat, dz, transposed: false, db);
    }

    /// <summary>ConvTranspose: y = act(convT(x, w) + bias).</summary>
    public static void TransposeForward(KernelSink s, ConvGeometry3D g, Tensor x, Tensor w, Tensor bias, Tensor y, FusedActivation act)
    {
        s.Dispatch(Pipeline(s, "conv_transpose3d", 4, act), [x, w, bias, y],
            s.Grid1D(g.OutputShape.ElementCount, s.Device.DefaultWorkgroupSize), g.Params(act));
    }

    /// <summary>ConvTranspose's backward through its dual convolution (dz-space → X-space, the same weights): dX is that conv of
    /// dz, accumulated; dW its weight gradient with dz as the input and X as the output gradient.</summary>
    public static void TransposeBackward(BackwardContext c, ConvGeometry3D g)
    {
        if (ConvKernels.BeginBackward(c, g.Flat, transposedDz: false) is not (var s, var dz, var dx, var dw, var db)) return;
        var dual = g.Dual;
        if (dx is not null)
        {
            // The dual's forward is the gather; its product is added onto dX (gradients accumulate).
            var product = s.Scratch("input_grad", c.InputShape(0));
            var zero = s.Weight("zero_bias", [dual.M], new float[dual.M]);
            Forward(s, dual, dz, c.Input(1), zero, product, FusedActivation.None, residual: null);
            s.Dispatch(s.Pipeline(new PipelineKey("reshape_backward", 2, 4, s.Device.DefaultWorkgroupSize)), [product, dx],
                s.Grid1D((dx.ElementCount + 3) / 4, s.Device.DefaultWorkgroupSize), [(uint)dx.ElementCount]);
        }
        if (dw is not null) Gradients(s, dual, dz, c.Input(1), c.Input(0), null, dw);
        if (db is not null) ConvKernels.BiasGradient(s, g.Flat, dz, transposed: false, db);
    }
}
