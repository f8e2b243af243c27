using VulkanCnn.Compiler;
using VulkanCnn.Ir;

namespace VulkanCnn.Nn;

/// <summary>
/// PyTorch-named layer factories: <c>Layers.Conv2d(1, 32, kernel: 3, padding: 1)</c>, <c>Layers.ReLU()</c> …
/// Each lowers to IR (ONNX-named) nodes; the module types are in LayerModules.cs.
/// </summary>
public static class Layers
{
    public static Conv2d Conv2d(int inChannels, int outChannels, int kernel, int stride = 1, int padding = 0, int dilation = 1,
        int groups = 1, bool bias = true) =>
        new(inChannels, outChannels, (kernel, kernel), (stride, stride), (padding, padding), (dilation, dilation), groups, bias);

    public static Conv2d Conv2d(int inChannels, int outChannels, (int H, int W) kernel, (int H, int W)? stride = null,
        (int H, int W)? padding = null,
        (int H, int W)? dilation = null, int groups = 1, bool bias = true) =>
        new(inChannels, outChannels, kernel, stride ?? (1, 1), padding ?? (0, 0), dilation ?? (1, 1), groups, bias);

    /// <summary>torch.nn.Conv1d over [N, C, L].</summary>
    public static ConvNd Conv1d(int inChannels, int outChannels, int kernel, int stride = 1, int padding = 0, int dilation = 1,
        int groups = 1, bool bias = true) =>
        new(1, inChannels, outChannels, [kernel], [stride], [padding], [dilation], groups, bias);

    /// <summary>torch.nn.Conv3d over [N, C, D, H, W], the same size along every axis.</summary>
    public static ConvNd Conv3d(int inChannels, int outChannels, int kernel, int stride = 1, int padding = 0, int dilation = 1,
        int groups = 1, bool bias = true) =>
        new(3, inChannels, outChannels, [kernel, kernel, kernel], [stride, stride, stride], [padding, padding, padding],
            [dilation, dilation, dilation], groups, bias);

    /// <summary>torch.nn.Conv3d with sizes per axis (D, H, W).</summary>
    public static ConvNd Conv3d(int inChannels, int outChannels, (int D, int H, int W) kernel, (int D, int H, int W)? stride = null,
        (int D, int H, int W)? padding = null, (int D, int H, int W)? dilation = null, int groups = 1, bool bias = true) =>
        new(3, inChannels, outChannels, Axes(kernel), Axes(stride ?? (1, 1, 1)), Axes(padding ?? (0, 0, 0)), Axes(dilation ?? (1, 1, 1)),
            groups, bias);

    public static BatchNorm2d BatchNorm2d(int channels, float eps = 1e-5f, float momentum = 0.1f) => new(channels, eps, momentum);

    /// <summary>torch.nn.BatchNorm1d over [N, C, L] (or [N, C]): the same module as <see cref="BatchNorm2d(int, float, float)"/>,
    /// which normalises per channel over every other axis.</summary>
    public static BatchNorm2d BatchNorm1d(int channels, float eps = 1e-5f, float momentum = 0.1f) => new(channels, eps, momentum);

    /// <summary>torch.nn.BatchNorm3d over [N, C, D, H, W] (see <see cref="BatchNorm1d"/>).</summary>
    public static BatchNorm2d BatchNorm3d(int channels, float eps = 1e-5f, float momentum = 0.1f) => new(channels, eps, momentum);
    public static Linear Linear(int inFeatures, int outFeatures, bool bias = true) => new(inFeatures, outFeatures, bias);

    public static OpModule ReLU() => Op("ReLU", "Relu");
    public static OpModule ReLU6() => new("ReLU6", (g, x) => g.Node("Clip", [x], new Attributes().Set("min", 0f).Set("max", 6f)));
    public static OpModule LeakyReLU(float negativeSlope = 0.01f) => Op("LeakyReLU", "LeakyRelu", ("alpha", negativeSlope));
    public static OpModule Sigmoid() => Op("Sigmoid", "Sigmoid");
    public static OpModule Tanh() => Op("Tanh", "Tanh");
    public static OpModule Hardswish() => Op("Hardswish", "HardSwish");
    /// <summary>PyTorch's hardsigmoid is relu6(x + 3) / 6, i.e. ONNX HardSigmoid with alpha 1/6.</summary>
    public static OpModule Hardsigmoid() => Op("Hardsigmoid", "HardSigmoid", ("alpha", 1f / 6), ("beta", 0.5f));
    public static OpModule SiLU() => Op("SiLU", "Silu");
    public static OpModule ELU(float alpha = 1f) => Op("ELU", "Elu", ("alpha", alpha));
    public static OpModule GELU(bool tanhApproximation = false) => Op("GELU", "Gelu", ("approximate", tanhApproximation ? "tanh" : "none"));
    public static OpModule Softmax(int dim) => Op("Softmax", "Softmax", ("axis", dim));
    public static OpModule LogSoftmax(int dim) => Op("LogSoftmax", "LogSoftmax", ("axis", dim));
    public static OpModule Identity() => Op("Identity", "Identity");
    public static OpModule Dropout(float p = 0.5f) => Op("Dropout", "Dropout", ("ratio", p));
    public static OpModule Flatten(int startDim = 1) => Op("Flatten", "Flatten", ("axis", startDim));

    public static OpModule MaxPool2d(int kernel, int? stride = null, int padding = 0, bool ceilMode = false) =>
        Op("MaxPool2d", "MaxPool", ("kernel_shape", new[] { kernel, kernel }), ("strides", new[] { stride ?? kernel, stride ?? kernel }),
            ("pads", new[] { padding, padding, padding, padding }), ("ceil_mode", ceilMode ? 1 : 0));

    public static OpModule AvgPool2d(int kernel, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true) =>
        Op("AvgPool2d", "AveragePool", ("kernel_shape", new[] { kernel, kernel }),
            ("strides", new[] { stride ?? kernel, stride ?? kernel }),
            ("pads", new[] { padding, padding, padding, padding }), ("ceil_mode", ceilMode ? 1 : 0),
                ("count_include_pad", countIncludePad ? 1 : 0));

    public static OpModule MaxPool1d(int kernel, int? stride = null, int padding = 0, bool ceilMode = false) =>
        Pool("MaxPool1d", "MaxPool", 1, kernel, stride, padding, ceilMode, null);

    public static OpModule AvgPool1d(int kernel, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true) =>
        Pool("AvgPool1d", "AveragePool", 1, kernel, stride, padding, ceilMode, countIncludePad);

    public static OpModule MaxPool3d(int kernel, int? stride = null, int padding = 0, bool ceilMode = false) =>
        Pool("MaxPool3d", "MaxPool", 3, kernel, stride, padding, ceilMode, null);

    public static OpModule AvgPool3d(int kernel, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true) =>
        Pool("AvgPool3d", "AveragePool", 3, kernel, stride, padding, ceilMode, countIncludePad);

    /// <summary>AdaptiveAvgPool1d(1) / AdaptiveAvgPool3d(1): global average pooling (other output sizes are not supported).</summary>
    public static OpModule AdaptiveAvgPool1d(int outputSize = 1) => Global("AdaptiveAvgPool1d", outputSize);

    /// <inheritdoc cref="AdaptiveAvgPool1d"/>
    public static OpModule AdaptiveAvgPool3d(int outputSize = 1) => Global("AdaptiveAvgPool3d", outputSize);

    private static OpModule Global(string name, int outputSize) => outputSize == 1
        ? Op(name, "GlobalAveragePool")
        : throw new NotSupportedException($"{name} supports output size 1 (global average pooling) only.");

    private static OpModule Pool(string name, string opType, int axes, int kernel, int? stride, int padding, bool ceilMode,
        bool? countIncludePad)
    {
        var attributes = new List<(string, object)>
        {
            ("kernel_shape", Enumerable.Repeat(kernel, axes).ToArray()), ("strides", Enumerable.Repeat(stride ?? kernel, axes).ToArray()),
            ("pads", Enumerable.Repeat(padding, 2 * axes).ToArray()), ("ceil_mode", ceilMode ? 1 : 0),
        };
        if (countIncludePad is { } include) attributes.Add(("count_include_pad", include ? 1 : 0));
        return Op(name, opType, [.. attributes]);
    }

    private static int[] Axes((int D, int H, int W) v) => [v.D, v.H, v.W];

    /// <summary>AdaptiveAvgPool2d(1) (global average pooling; other output sizes are not supported).</summary>
    public static OpModule AdaptiveAvgPool2d(int outputSize = 1) => outputSize == 1
        ? Op("AdaptiveAvgPool2d", "GlobalAveragePool")
        : throw new NotSupportedException("AdaptiveAvgPool2d supports output size 1 (global average pooling) only.");

    private static OpModule Op(string name, string opType, params (string Name, object Value)[] attributes) => new(name, (g, x) =>
    {
        var a = new Attributes();
        foreach (var (n, v) in attributes) a.Set(n, v);
        return g.Node(opType, [x], a);
    });
}
