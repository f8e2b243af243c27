using VulkanCnn.Nn;

namespace VulkanCnn.Models;

/// <summary>torchvision's BasicBlock: conv3x3-BN-ReLU-conv3x3-BN, plus the (downsampled) input, then ReLU.</summary>
public sealed class BasicBlock : Module
{
    private readonly Conv2d _conv1, _conv2;
    private readonly BatchNorm2d _bn1, _bn2;
    private readonly Sequential? _downsample;

    public BasicBlock(int inChannels, int outChannels, int stride)
    {
        _conv1 = RegisterModule("conv1", Layers.Conv2d(inChannels, outChannels, 3, stride, 1, bias: false));
        _bn1 = RegisterModule("bn1", Layers.BatchNorm2d(outChannels));
        _conv2 = RegisterModule("conv2", Layers.Conv2d(outChannels, outChannels, 3, 1, 1, bias: false));
        _bn2 = RegisterModule("bn2", Layers.BatchNorm2d(outChannels));
        if (stride != 1 || inChannels != outChannels)
            _downsample = RegisterModule("downsample",
                new Sequential(Layers.Conv2d(inChannels, outChannels, 1, stride, bias: false), Layers.BatchNorm2d(outChannels)));
    }

    public override Value Forward(GraphBuilder g, Value x)
    {
        var y = g.Relu(g.Call(_bn1, g.Call(_conv1, x)));
        y = g.Call(_bn2, g.Call(_conv2, y));
        var identity = _downsample is null ? x : g.Call(_downsample, x);
        return g.Relu(g.Add(y, identity));
    }
}

/// <summary>ResNet with BasicBlocks (torchvision layout and state_dict names): ResNet-18 is [2, 2, 2, 2].</summary>
public sealed class ResNet : Module
{
    private readonly Module _stem, _layers, _head;

    public ResNet(int[] blocks, int numClasses = 1000, int inChannels = 3, int width = 64)
    {
        var stem = new Sequential(Layers.Conv2d(inChannels, width, 7, 2, 3, bias: false), Layers.BatchNorm2d(width), Layers.ReLU(),
            Layers.MaxPool2d(3, 2, 1));
        _stem = RegisterModule("stem", stem);
        var stages = new List<Module>();
        int channels = width;
        for (int s = 0; s < blocks.Length; s++)
        {
            int outChannels = width << s;
            var stage = new List<Module>();
            for (int b = 0; b < blocks[s]; b++)
            {
                stage.Add(new BasicBlock(channels, outChannels, b == 0 && s > 0 ? 2 : 1));
                channels = outChannels;
            }
            stages.Add(new Sequential(stage.ToArray()));
        }
        _layers = RegisterModule("layers", new Sequential(stages.ToArray()));
        _head = RegisterModule("head", new Sequential(Layers.AdaptiveAvgPool2d(1), Layers.Flatten(), Layers.Linear(channels, numClasses)));
    }

    public static ResNet ResNet18(int numClasses = 1000, int inChannels = 3) => new([2, 2, 2, 2], numClasses, inChannels);

    public override Value Forward(GraphBuilder g, Value x) => g.Call(_head, g.Call(_layers, g.Call(_stem, x)));
}

/// <summary>An Inception-style block (GoogLeNet / Inception-v3 "17x17" flavour): parallel 1x1, 1x7→7x1, 7x1→1x7
/// and pool→1x1 branches, concatenated on channels.</summary>
public sealed class InceptionBlock : Module
{
    private readonly Sequential _b1, _b7, _b77, _pool;

    public InceptionBlock(int inChannels, int branchChannels, int midChannels)
    {
        static Sequential ConvBnRelu(int i, int o, (int, int) k, (int, int) p) =>
            new(Layers.Conv2d(i, o, k, padding: p, bias: false), Layers.BatchNorm2d(o), Layers.ReLU());
        _b1 = RegisterModule("branch1x1", ConvBnRelu(inChannels, branchChannels, (1, 1), (0, 0)));
        _b7 = RegisterModule("branch7x7", new Sequential(ConvBnRelu(inChannels, midChannels, (1, 1), (0, 0)),
            ConvBnRelu(midChannels, midChannels, (1, 7), (0, 3)), ConvBnRelu(midChannels, branchChannels, (7, 1), (3, 0))));
        _b77 = RegisterModule("branch7x7dbl", new Sequential(ConvBnRelu(inChannels, midChannels, (1, 1), (0, 0)),
            ConvBnRelu(midChannels, midChannels, (7, 1), (3, 0)), ConvBnRelu(midChannels, branchChannels, (1, 7), (0, 3))));
        _pool = RegisterModule("branch_pool",
            new Sequential(Layers.AvgPool2d(3, 1, 1), ConvBnRelu(inChannels, branchChannels, (1, 1), (0, 0))));
    }

    public override Value Forward(GraphBuilder g, Value x) =>
        g.Concat(1, g.Call(_b1, x), g.Call(_b7, x), g.Call(_b77, x), g.Call(_pool, x));
}
