using VulkanCnn.Compiler;
using VulkanCnn.Ir;

namespace VulkanCnn.Nn;

/// <summary>torch.nn.Conv2d → Conv. Weight [out, in/groups, kh, kw], optional bias [out].</summary>
public sealed class Conv2d : Module
{
    public Conv2d(int inChannels, int outChannels, (int H, int W) kernel, (int H, int W) stride, (int H, int W) padding,
        (int H, int W) dilation, int groups, bool bias)
    {
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv2d({inChannels}, {outChannels}): both channel counts must divide by groups={groups}.",
                nameof(groups));
        InChannels = inChannels; OutChannels = outChannels; Kernel = kernel;
        Stride = stride; Padding = padding; Dilation = dilation; Groups = groups;
        int fanIn = inChannels / groups * kernel.H * kernel.W;
        float bound = 1 / MathF.Sqrt(fanIn);
        Weight = RegisterParameter("weight", new Parameter(new TensorShape(outChannels, inChannels / groups, kernel.H, kernel.W),
            Init.Uniform((long)outChannels * fanIn, bound)));
        Bias = bias ? RegisterParameter("bias", new Parameter(new TensorShape(outChannels), Init.Uniform(outChannels, bound))) : null;
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public (int H, int W) Kernel { get; }
    public (int H, int W) Stride { get; }
    public (int H, int W) Padding { get; }
    public (int H, int W) Dilation { get; }
    public int Groups { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    public override Value Forward(GraphBuilder g, Value x)
    {
        if (x.Shape.Rank != 4 || x.Shape[1] != InChannels)
            throw new GraphException($"Conv2d({InChannels}, {OutChannels}) expects input [N, {InChannels}, H, W], got {x.Shape}.");
        var a = new Attributes()
            .Set("kernel_shape", new[] { Kernel.H, Kernel.W }).Set("strides", new[] { Stride.H, Stride.W })
            .Set("pads", new[] { Padding.H, Padding.W, Padding.H, Padding.W }).Set("dilations", new[] { Dilation.H, Dilation.W })
            .Set("group", Groups);
        return g.Node("Conv", [x, g.Parameter(Weight), Bias is null ? null : g.Parameter(Bias)], a);
    }
}

/// <summary>torch.nn.Conv1d / Conv3d → Conv over 1 or 3 spatial axes (NCL, NCDHW). Weight [out, in/groups, k…].</summary>
public sealed class ConvNd : Module
{
    public ConvNd(int spatialAxes, int inChannels, int outChannels, int[] kernel, int[] stride, int[] padding, int[] dilation,
        int groups, bool bias)
    {
        string name = $"Conv{spatialAxes}d({inChannels}, {outChannels})";
        if (spatialAxes is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(spatialAxes), "Conv1d or Conv3d: 1 or 3 axes.");
        foreach (var (values, what) in new[] { (kernel, "kernel"), (stride, "stride"), (padding, "padding"), (dilation, "dilation") })
            if (values.Length != spatialAxes || values.Any(v => v < (what == "padding" ? 0 : 1)))
                throw new ArgumentException($"{name}: {what} needs {spatialAxes} value(s) of at least {(what == "padding" ? 0 : 1)}, " +
                    $"got [{string.Join(", ", values)}].", what);
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"{name}: both channel counts must divide by groups={groups}.", nameof(groups));
        SpatialAxes = spatialAxes; InChannels = inChannels; OutChannels = outChannels; Kernel = kernel;
        Stride = stride; Padding = padding; Dilation = dilation; Groups = groups;
        int fanIn = inChannels / groups * kernel.Aggregate(1, (p, k) => p * k);
        float bound = 1 / MathF.Sqrt(fanIn);
        Weight = RegisterParameter("weight", new Parameter(new TensorShape([outChannels, inChannels / groups, .. kernel]),
            Init.Uniform((long)outChannels * fanIn, bound)));
        Bias = bias ? RegisterParameter("bias", new Parameter(new TensorShape(outChannels), Init.Uniform(outChannels, bound))) : null;
    }

    public int SpatialAxes { get; }
    public int InChannels { get; }
    public int OutChannels { get; }
    public IReadOnlyList<int> Kernel { get; }
    public IReadOnlyList<int> Stride { get; }
    public IReadOnlyList<int> Padding { get; }
    public IReadOnlyList<int> Dilation { get; }
    public int Groups { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    public override Value Forward(GraphBuilder g, Value x)
    {
        if (x.Shape.Rank != SpatialAxes + 2 || x.Shape[1] != InChannels)
            throw new GraphException($"Conv{SpatialAxes}d({InChannels}, {OutChannels}) expects input [N, {InChannels}, " +
                $"{(SpatialAxes == 1 ? "L" : "D, H, W")}], got {x.Shape}.");
        var a = new Attributes()
            .Set("kernel_shape", Kernel.ToArray()).Set("strides", Stride.ToArray())
            .Set("pads", Padding.Concat(Padding).ToArray()).Set("dilations", Dilation.ToArray()).Set("group", Groups);
        return g.Node("Conv", [x, g.Parameter(Weight), Bias is null ? null : g.Parameter(Bias)], a);
    }
}

/// <summary>torch.nn.BatchNorm1d / 2d / 3d → BatchNormalization with weight, bias, running_mean, running_var: per channel (axis 1)
/// over every other axis, whatever the input's rank.</summary>
public sealed class BatchNorm2d : Module
{
    public BatchNorm2d(int channels, float eps = 1e-5f, float momentum = 0.1f)
    {
        Channels = channels; Eps = eps; Momentum = momentum;
        Weight = RegisterParameter("weight", new Parameter(new TensorShape(channels), Init.Fill(channels, 1)));
        Bias = RegisterParameter("bias", new Parameter(new TensorShape(channels), Init.Fill(channels, 0)));
        RunningMean = RegisterParameter("running_mean",
            new Parameter(new TensorShape(channels), Init.Fill(channels, 0)) { RequiresGrad = false });
        RunningVar = RegisterParameter("running_var",
            new Parameter(new TensorShape(channels), Init.Fill(channels, 1)) { RequiresGrad = false });
    }

    public int Channels { get; }
    public float Eps { get; }
    public float Momentum { get; }
    public Parameter Weight { get; }
    public Parameter Bias { get; }
    public Parameter RunningMean { get; }
    public Parameter RunningVar { get; }

    public override Value Forward(GraphBuilder g, Value x) => g.Node("BatchNormalization",
        [x, g.Parameter(Weight), g.Parameter(Bias), g.Parameter(RunningMean), g.Parameter(RunningVar)],
        new Attributes().Set("epsilon", Eps).Set("momentum", 1 - Momentum));
}

/// <summary>torch.nn.Linear → Gemm(x, W, b, transB=1). Weight [out, in].</summary>
public sealed class Linear : Module
{
    public Linear(int inFeatures, int outFeatures, bool bias = true)
    {
        InFeatures = inFeatures; OutFeatures = outFeatures;
        float bound = 1 / MathF.Sqrt(inFeatures);
        Weight = RegisterParameter("weight",
            new Parameter(new TensorShape(outFeatures, inFeatures), Init.Uniform((long)outFeatures * inFeatures, bound)));
        Bias = bias ? RegisterParameter("bias", new Parameter(new TensorShape(outFeatures), Init.Uniform(outFeatures, bound))) : null;
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    public override Value Forward(GraphBuilder g, Value x)
    {
        if (x.Shape.Rank != 2 || x.Shape[1] != InFeatures)
            throw new GraphException($"Linear({InFeatures}, {OutFeatures}) expects input [N, {InFeatures}], got {x.Shape}.");
        return g.Node("Gemm", [x, g.Parameter(Weight), Bias is null ? null : g.Parameter(Bias)], new Attributes().Set("transB", 1));
    }
}

/// <summary>A parameterless layer that lowers to one IR node (activations, pooling, flatten …).</summary>
public sealed class OpModule : Module
{
    private readonly Func<GraphBuilder, Value, Value> _lower;

    public OpModule(string name, Func<GraphBuilder, Value, Value> lower)
    {
        Name = name;
        _lower = lower;
    }

    public string Name { get; }
    public override Value Forward(GraphBuilder g, Value x) => _lower(g, x);
    public override string ToString() => Name;
}
