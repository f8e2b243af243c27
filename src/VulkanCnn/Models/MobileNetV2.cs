using VulkanCnn.Nn;

namespace VulkanCnn.Models;

/// <summary>MobileNetV2's inverted residual: 1x1 expand (when t > 1), 3x3 depthwise, 1x1 linear projection,
/// each with BatchNorm (ReLU6 after the first two), plus the input when the shape is kept.</summary>
public sealed class InvertedResidual : Module
{
    private readonly Sequential _block;
    private readonly bool _residual;

    public InvertedResidual(int inChannels, int outChannels, int stride, int expandRatio)
    {
        int hidden = inChannels * expandRatio;
        var layers = new List<Module>();
        if (expandRatio != 1) layers.AddRange([Layers.Conv2d(inChannels, hidden, 1, bias: false), Layers.BatchNorm2d(hidden),
            Layers.ReLU6()]);
        layers.AddRange([
            Layers.Conv2d(hidden, hidden, 3, stride, 1, groups: hidden, bias: false), Layers.BatchNorm2d(hidden), Layers.ReLU6(),
            Layers.Conv2d(hidden, outChannels, 1, bias: false), Layers.BatchNorm2d(outChannels)]);
        _block = RegisterModule("conv", new Sequential(layers.ToArray()));
        _residual = stride == 1 && inChannels == outChannels;
    }

    public override Value Forward(GraphBuilder g, Value x) => _residual ? g.Add(x, g.Call(_block, x)) : g.Call(_block, x);
}

/// <summary>MobileNetV2 (torchvision's architecture, width 1.0; 0.3 GMAC at 224x224). Dropout before the classifier
/// is left out: this builder is for inference and benchmarks.</summary>
public sealed class MobileNetV2 : Module
{
    private readonly Sequential _features, _classifier;

    public MobileNetV2(int numClasses = 1000, int inChannels = 3)
    {
        // (expansion t, output channels c, repeats n, first stride s), as in the paper's table 2.
        (int T, int C, int N, int S)[] settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
            (6, 160, 3, 2), (6, 320, 1, 1)];
        var features = new List<Module> { new Sequential(Layers.Conv2d(inChannels, 32, 3, 2, 1, bias: false), Layers.BatchNorm2d(32),
            Layers.ReLU6()) };
        int channels = 32;
        foreach (var (t, c, n, s) in settings)
            for (int i = 0; i < n; i++)
            {
                features.Add(new InvertedResidual(channels, c, i == 0 ? s : 1, t));
                channels = c;
            }
        features.Add(new Sequential(Layers.Conv2d(channels, 1280, 1, bias: false), Layers.BatchNorm2d(1280), Layers.ReLU6()));
        _features = RegisterModule("features", new Sequential(features.ToArray()));
        _classifier = RegisterModule("classifier",
            new Sequential(Layers.AdaptiveAvgPool2d(1), Layers.Flatten(), Layers.Linear(1280, numClasses)));
    }

    public override Value Forward(GraphBuilder g, Value x) => g.Call(_classifier, g.Call(_features, x));
}
