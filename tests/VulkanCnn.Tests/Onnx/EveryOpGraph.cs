using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using IrGraph = VulkanCnn.Ir.Graph;

namespace VulkanCnn.Tests.Onnx;

/// <summary>
/// An IR graph with a node of every runtime op type, all reading runtime values (so nothing folds
/// at import). <see cref="Canonical"/> nodes are already in their opset-17 form and must come back
/// from export + import unchanged; <see cref="Rewritten"/> nodes use forms of other opsets or
/// VulkanCnn's own (Silu, Gelu, Upsample, attribute forms, opset-18 inputs, fused activations)
/// that the exporter rewrites.
/// </summary>
public sealed class EveryOpGraph
{
    public static readonly int[] InputShape = [2, 3, 4, 6];

    private int _seed = 100;

    public IrGraph Graph { get; } = new() { Name = "every_op" };
    public List<string> Canonical { get; } = new();
    public List<string> Rewritten { get; } = new();

    public EveryOpGraph()
    {
        Graph.Inputs.Add(new ValueInfo("x", InputShape));
        BuildCanonical();
        BuildRewritten();
    }

    private void Op(bool canonical, string op, string name, string[] inputs, string[] outputs, Attributes? a = null, bool output = true)
    {
        Graph.Nodes.Add(new Node(op, name, inputs, outputs, a));
        (canonical ? Canonical : Rewritten).Add(name);
        if (output) Graph.Outputs.AddRange(outputs.Where(o => o.Length > 0));
    }

    private void C(string op, string name, string[] inputs, string[] outputs, Attributes? a = null, bool output = true) =>
        Op(true, op, name, inputs, outputs, a, output);
    private void R(string op, string name, string[] inputs, string[] outputs, Attributes? a = null) =>
        Op(false, op, name, inputs, outputs, a);

    private string F(string name, int[] shape, float low = -1, float high = 1)
    {
        Graph.Initializers[name] = HostTensor.FromFloats(shape,
            Reference.Random((int)new TensorShape(shape).ElementCount, _seed++, low, high));
        return name;
    }

    private string V(string name, params float[] values)
    {
        Graph.Initializers[name] = HostTensor.FromFloats(new TensorShape(values.Length), values);
        return name;
    }

    private string S(string name, float value)
    {
        Graph.Initializers[name] = HostTensor.Scalar(value);
        return name;
    }

    private string I(string name, params long[] values)
    {
        Graph.Initializers[name] = HostTensor.FromInts(new TensorShape(values.Length), values);
        return name;
    }

    private static Attributes A(params (string Key, object Value)[] values)
    {
        var a = new Attributes();
        foreach (var (k, v) in values) a.Set(k, v);
        return a;
    }

    private void BuildCanonical()
    {
        // Convolutions, pooling, normalisation. x is [2, 3, 4, 6].
        C("Conv", "conv", ["x", F("conv_w", [4, 3, 3, 3]), F("conv_b", [4])], ["conv_y"],
            A(("kernel_shape", new[] { 3, 3 }), ("pads", new[] { 1, 0, 1, 2 }), ("strides", new[] { 1, 2 })));
        C("ConvTranspose", "convt", ["x", F("convt_w", [3, 2, 3, 3])], ["convt_y"],
            A(("strides", new[] { 2, 2 }), ("pads", new[] { 1, 1, 0, 1 })));
        C("MaxPool", "maxpool", ["x"], ["maxpool_y"], A(("kernel_shape", new[] { 2, 2 }), ("strides", new[] { 2, 2 })));
        C("AveragePool", "avgpool", ["x"], ["avgpool_y"],
            A(("kernel_shape", new[] { 3, 3 }), ("pads", new[] { 1, 1, 1, 1 }), ("count_include_pad", 0)));
        C("GlobalAveragePool", "gap", ["x"], ["gap_y"]);
        C("GlobalMaxPool", "gmp", ["x"], ["gmp_y"]);
        C("LRN", "lrn", ["x"], ["lrn_y"], A(("size", 3), ("alpha", 0.01f), ("beta", 0.6f), ("bias", 1.5f)));
        C("BatchNormalization", "bn", ["x", F("bn_s", [3]), F("bn_b", [3]), F("bn_m", [3]), F("bn_v", [3], 0.5f, 1.5f)], ["bn_y"],
            A(("epsilon", 1e-3f)));
        C("InstanceNormalization", "inorm", ["x", F("in_s", [3]), F("in_b", [3])], ["inorm_y"], A(("epsilon", 1e-4f)));
        C("LayerNormalization", "lnorm", ["x", F("ln_s", [6]), F("ln_b", [6])], ["lnorm_y"], A(("axis", -1), ("epsilon", 1e-5f)));
        C("LayerNormalization", "lnorm_stats", ["x", F("ln_stats_s", [4, 6])], ["lnorm_stats_y", "lnorm_stats_mean", "lnorm_stats_inv_std"],
            A(("axis", 2)));
        C("Dropout", "dropout", ["x"], ["dropout_y"]);
        C("Identity", "identity", ["x"], ["identity_y"]);

        // Activations and math.
        C("Relu", "relu", ["x"], ["relu_y"]);
        C("LeakyRelu", "leaky", ["x"], ["leaky_y"], A(("alpha", 0.2f)));
        C("Clip", "clip", ["x", S("clip_min", -0.3f), S("clip_max", 0.4f)], ["clip_y"]);
        C("Sigmoid", "sigmoid", ["x"], ["sigmoid_y"]);
        C("Tanh", "tanh", ["x"], ["tanh_y"]);
        C("HardSigmoid", "hardsigmoid", ["x"], ["hardsigmoid_y"], A(("alpha", 0.3f), ("beta", 0.4f)));
        C("HardSwish", "hardswish", ["x"], ["hardswish_y"]);
        C("Elu", "elu", ["x"], ["elu_y"], A(("alpha", 0.7f)));
        C("Softmax", "softmax", ["x"], ["softmax_y"], A(("axis", 1)));
        C("LogSoftmax", "logsoftmax", ["x"], ["logsoftmax_y"], A(("axis", -1)));
        C("Abs", "abs", ["x"], ["abs_y"]);
        C("Sqrt", "sqrt", ["abs_y"], ["sqrt_y"]);
        C("Pow", "pow", ["abs_y", S("pow_e", 1.5f)], ["pow_y"]);
        C("Exp", "exp", ["x"], ["exp_y"]);
        C("Erf", "erf", ["x"], ["erf_y"]);
        C("Neg", "neg", ["x"], ["neg_y"]);
        C("Add", "add", ["x", F("add_b", [3, 1, 1])], ["add_y"]);
        C("Sub", "sub", ["x", F("sub_b", [6])], ["sub_y"]);
        C("Mul", "mul", ["x", S("mul_s", 7.3f)], ["mul_y"]);
        C("Div", "div", ["x", F("div_b", [4, 1], 0.5f, 2)], ["div_y"]);
        C("PRelu", "prelu", ["x", F("prelu_slope", [3, 1, 1])], ["prelu_y"]);
        C("Max", "max", ["x", "neg_y", F("max_c", [6])], ["max_y"]);
        C("Min", "min", ["x", F("min_c", [4, 6])], ["min_y"]);
        C("Sum", "sum", ["x", "relu_y", "tanh_y"], ["sum_y"]);
        C("Mean", "mean", ["x", "sigmoid_y"], ["mean_y"]);
        C("Cast", "cast", ["mul_y"], ["cast_y"], A(("to", 7)));
        C("Where", "where", [I("where_c", 1, 0, 0, 1, 1, 0), "x", "neg_y"], ["where_y"]);
        C("Expand", "expand", ["gap_y", I("expand_shape", 2, 3, 4, 6)], ["expand_y"]);
        C("ArgMax", "argmax", ["x"], ["argmax_y"], A(("axis", 1), ("keepdims", 0)));
        C("ArgMin", "argmin", ["x"], ["argmin_y"], A(("axis", 3), ("select_last_index", 1)));
        C("TopK", "topk", ["x", I("topk_k", 3)], ["topk_values", "topk_indices"], A(("axis", -1)));

        // Data movement.
        C("DepthToSpace", "d2s", ["conv_y"], ["d2s_y"], A(("blocksize", 2), ("mode", "CRD")));
        C("SpaceToDepth", "s2d", ["x"], ["s2d_y"], A(("blocksize", 2)));
        C("Concat", "concat", ["x", "relu_y"], ["concat_y"], A(("axis", 1)));
        C("Split", "split", ["x", I("split_sizes", 1, 2)], ["split_a", "split_b"], A(("axis", 1)));
        C("Slice", "slice", ["x", I("slice_starts", 0, 1), I("slice_ends", 3, -1), I("slice_axes", 1, 3), I("slice_steps", 2, 2)],
            ["slice_y"]);
        C("Pad", "pad", ["x", I("pad_pads", 0, 1, 0, 2, 0, 0, 1, 1), S("pad_value", 0.5f)], ["pad_y"]);
        C("Pad", "pad_reflect", ["x", I("pad_reflect_pads", 0, 0, 1, 2, 0, 0, 2, 1)], ["pad_reflect_y"], A(("mode", "reflect")));
        C("Transpose", "transpose", ["x"], ["transpose_y"], A(("perm", new[] { 0, 2, 3, 1 })));
        C("Reshape", "reshape", ["x", I("reshape_shape", 2, -1, 6)], ["reshape_y"]);
        C("Flatten", "flatten", ["x"], ["flatten_y"], A(("axis", 1)));
        C("Squeeze", "squeeze", ["gap_y", I("squeeze_axes", 2, 3)], ["squeeze_y"]);
        C("Unsqueeze", "unsqueeze", ["x", I("unsqueeze_axes", 0)], ["unsqueeze_y"]);
        C("Gather", "gather", ["x", I("gather_i", 2, 0)], ["gather_y"], A(("axis", 1)));
        C("Resize", "resize_linear", ["x", "", V("resize_scales", 1, 1, 2, 1.5f)], ["resize_linear_y"], A(("mode", "linear")));
        // Sizes with exact ratios: ONNX Runtime maps coordinates in float, the runtime in double.
        C("Resize", "resize_nearest", ["x", "", "", I("resize_sizes", 2, 3, 8, 3)], ["resize_nearest_y"],
            A(("coordinate_transformation_mode", "asymmetric"), ("nearest_mode", "floor")));
        C("Resize", "resize_cubic", ["x", "", V("resize_cubic_scales", 1, 1, 1.5f, 0.5f)], ["resize_cubic_y"],
            A(("mode", "cubic"), ("cubic_coeff_a", -0.5f), ("exclude_outside", 1)));
        // tf_crop_and_resize crops W past both edges (extrapolated). H stays whole: with an H crop, ONNX Runtime's linear
        // path returned H uncropped (the ONNX reference and its conformance case agree with the runtime; ResizeTests crops H).
        C("Resize", "resize_crop", ["x", V("resize_crop_roi", 0, 0, 0, -0.3f, 1, 1, 1, 1.4f), "", I("resize_crop_sizes", 2, 3, 5, 7)],
            ["resize_crop_y"],
            A(("mode", "linear"), ("coordinate_transformation_mode", "tf_crop_and_resize"), ("extrapolation_value", 10f)));

        // Matrix products and reductions.
        C("Gemm", "gemm", ["flatten_y", F("gemm_w", [5, 72]), F("gemm_c", [5])], ["gemm_y"],
            A(("transB", 1), ("alpha", 0.5f), ("beta", 0.7f)));
        C("MatMul", "matmul", ["x", F("matmul_w", [6, 5])], ["matmul_y"]);
        C("ReduceMean", "reducemean", ["x"], ["reducemean_y"], A(("axes", new[] { 2, 3 })));
        C("ReduceSum", "reducesum", ["x", I("reducesum_axes", 1)], ["reducesum_y"], A(("keepdims", 0)));
        C("ReduceMax", "reducemax", ["x"], ["reducemax_y"], A(("axes", new[] { -1 }), ("keepdims", 0)));
        C("ReduceMin", "reducemin", ["x"], ["reducemin_y"], A(("axes", new[] { 1, 2 })));
    }

    private void BuildRewritten()
    {
        // VulkanCnn's own op and Gelu (opset 20) are decomposed.
        R("Silu", "silu", ["x"], ["silu_y"]);
        R("Gelu", "gelu", ["x"], ["gelu_y"]);
        R("Gelu", "gelu_tanh", ["x"], ["gelu_tanh_y"], A(("approximate", "tanh")));
        // Legacy Resize forms: Upsample-7 (scales attribute) and Resize-10 (X, scales) shrinking.
        R("Upsample", "upsample", ["x"], ["upsample_y"], A(("scales", new[] { 1f, 1, 2, 3 })));
        R("Resize", "resize10", ["x", V("resize10_scales", 1, 1, 0.5f, 0.5f)], ["resize10_y"]);
        // Attribute forms of opsets before 11/13: become inputs.
        R("Clip", "clip_attr", ["x"], ["clip_attr_y"], A(("min", -0.25f), ("max", 0.5f)));
        R("Clip", "clip_max_only", ["x"], ["clip_max_only_y"], A(("max", 0.1f)));
        R("Squeeze", "squeeze_attr", ["gmp_y"], ["squeeze_attr_y"], A(("axes", new[] { -1, 2 })));
        R("Unsqueeze", "unsqueeze_attr", ["x"], ["unsqueeze_attr_y"], A(("axes", new[] { 1, 5 })));
        R("ReduceSum", "reducesum_attr", ["x"], ["reducesum_attr_y"], A(("axes", new[] { 0, 3 })));
        R("Split", "split_attr", ["x"], ["split_attr_a", "split_attr_b"], A(("axis", -1), ("split", new[] { 4, 2 })));
        R("Pad", "pad_attr", ["x"], ["pad_attr_y"], A(("pads", new[] { 0, 0, 2, 0, 0, 1, 0, 3 }), ("value", -2f)));
        R("Slice", "slice_attr", ["x"], ["slice_attr_y"],
            A(("starts", new[] { 1, -4 }), ("ends", new[] { 3, 100 }), ("axes", new[] { 2, 3 })));
        R("TopK", "topk_attr", ["x"], ["topk_attr_values", "topk_attr_indices"], A(("axis", 2), ("k", 2), ("largest", 0)));
        R("Dropout", "dropout_ratio", ["x"], ["dropout_ratio_y"], A(("ratio", 0.3f), ("training_mode", 0)));
        // Opset-18+ forms: lowered to opset 17.
        R("ReduceMean", "reducemean_input", ["x", I("reducemean_axes", -2, 1)], ["reducemean_input_y"], A(("keepdims", 0)));
        R("ReduceMax", "reducemax_noop", ["x"], ["reducemax_noop_y"], A(("noop_with_empty_axes", 1)));
        R("ReduceMin", "reducemin_all", ["x"], ["reducemin_all_y"], A(("noop_with_empty_axes", 0), ("keepdims", 0)));
        R("Split", "split_num", ["x"], ["split_num_a", "split_num_b"], A(("axis", 1), ("num_outputs", 2)));
        R("Pad", "pad_axes", ["x", I("pad_axes_pads", 1, 2, 3, 0), "", I("pad_axes_axes", -1, 1)], ["pad_axes_y"], A(("mode", "edge")));
        R("Resize", "resize_axes", ["x", "", V("resize_axes_scales", 0.5f, 1.5f)], ["resize_axes_y"],
            A(("axes", new[] { 3, 2 }), ("antialias", 0), ("mode", "linear")));
        R("Resize", "resize_policy", ["x", "", "", I("resize_policy_sizes", 6, 12)], ["resize_policy_y"],
            A(("axes", new[] { 2, 3 }), ("keep_aspect_ratio_policy", "not_larger"), ("mode", "linear")));
        R("Resize", "resize_crop_axes", ["x", V("resize_crop_axes_roi", 0, 0.3f, 1, 0.6f), "", I("resize_crop_axes_sizes", 5, 3)],
            ["resize_crop_axes_y"],
            A(("axes", new[] { 2, 3 }), ("mode", "cubic"), ("coordinate_transformation_mode", "tf_crop_and_resize")));
        R("AveragePool", "avgpool_dilations", ["x"], ["avgpool_dilations_y"],
            A(("kernel_shape", new[] { 2, 3 }), ("dilations", new[] { 1, 1 })));
        R("Cast", "cast_saturate", ["x"], ["cast_saturate_y"], A(("to", 1), ("saturate", 1)));
        // Fused activations, as compilation leaves them: they become nodes again.
        var fused = A(("kernel_shape", new[] { 1, 1 }));
        new FusedActivation(ActivationKind.Clip, 0, 6).WriteTo(fused);
        R("Conv", "conv_relu6", ["x", F("conv_relu6_w", [5, 3, 1, 1])], ["conv_relu6_y"], fused);
        var fusedAdd = new Attributes();
        new FusedActivation(ActivationKind.HardSigmoid, 0.25f, 0.5f).WriteTo(fusedAdd);
        R("Add", "add_hardsigmoid", ["x", "neg_y"], ["add_hardsigmoid_y"], fusedAdd);
        var fusedGemm = A(("transB", 1));
        new FusedActivation(ActivationKind.Silu).WriteTo(fusedGemm);
        R("Gemm", "gemm_silu", ["flatten_y", F("gemm_silu_w", [3, 72])], ["gemm_silu_y"], fusedGemm);
        var fusedMul = new Attributes();
        new FusedActivation(ActivationKind.GeluTanh).WriteTo(fusedMul);
        fusedMul.Set("vkcnn.strategy", "internal");
        R("Mul", "mul_gelu", ["x", "x"], ["mul_gelu_y"], fusedMul);
    }
}
