using VulkanCnn.Ir;
using VulkanCnn.Nn;

namespace VulkanCnn.Training;

/// <summary>
/// Fine-tuning an imported network end to end: the backbone graph as a <see cref="GraphModule"/> (up to a chosen feature value),
/// global average pooling when its features are still spatial, and a new linear head for the task's classes; which backbone
/// parameters train is an unfreeze spec.
/// </summary>
public static class FineTune
{
    /// <summary>Backbone → (GlobalAveragePool, when the features are N×C×…) → Flatten → Linear(C, classes).</summary>
    /// <param name="backbone">The imported graph.</param>
    /// <param name="features">The value to take as features (default: the graph's first output).</param>
    /// <param name="sampleShape">One input sample (C, H, W): the features' width is inferred from it.</param>
    /// <param name="classes">The new head's outputs.</param>
    /// <param name="unfreeze">all, none (a linear probe on frozen features), last:N (the last N weighted layers) or a name prefix.
    /// </param>
    /// <param name="backboneLearningRateScale">The backbone's learning rate relative to the head's (a parameter group).</param>
    /// <param name="freezeBatchNorm">The backbone's BatchNorms keep their running statistics instead of batch ones.</param>
    public static Sequential Model(Graph backbone, string? features, TensorShape sampleShape, int classes, string unfreeze = "all",
        double backboneLearningRateScale = 1, bool freezeBatchNorm = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(backboneLearningRateScale);
        var body = new GraphModule(backbone, features);
        Unfreeze(body, unfreeze);
        body.FreezeBatchNorm(freezeBatchNorm);
        foreach (var p in body.Parameters.Values) p.LearningRateScale = backboneLearningRateScale;
        var probe = new Sequential(body).ToGraph(new TensorShape([1, .. sampleShape.Dimensions.ToArray()]), "probe");
        var shape = ShapeOf(probe);
        if (shape.Rank < 2)
            throw new ArgumentException($"The backbone's features '{features ?? backbone.Outputs.FirstOrDefault()}' are {shape}; " +
                "a head needs N×C or N×C×….", nameof(features));
        var layers = new List<Module> { body };
        if (shape.Rank > 2 && shape.ElementCount != shape[1]) layers.Add(Layers.AdaptiveAvgPool2d()); // GlobalAveragePool: any rank
        layers.Add(Layers.Flatten());
        layers.Add(Layers.Linear(shape[1], classes));
        return new Sequential([.. layers]);
    }

    /// <summary>Sets which of the backbone's parameters train (running statistics stay buffers); returns how many train.</summary>
    public static int Unfreeze(GraphModule backbone, string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        backbone.FreezePrefix("");
        var weighted = backbone.Parameters.Keys.Where(k => backbone.Parameters[k].Shape.Rank > 1).ToList();   // one weight per layer
        switch (spec)
        {
            case "all": backbone.FreezePrefix("", frozen: false); break;
            case "none": break;
            default:
                if (spec.StartsWith("last:", StringComparison.Ordinal))
                {
                    if (!int.TryParse(spec.AsSpan(5), out int n) || n < 1)
                        throw new ArgumentException($"--unfreeze '{spec}': last:N needs a positive N.", nameof(spec));
                    // A layer is a weight and its bias, BatchNorm's scale and shift after it: the parameters from the N-th last
                    // weight on, in graph order.
                    int from = Math.Max(0, weighted.Count - n);
                    var names = backbone.Parameters.Keys.ToList();
                    int start = weighted.Count == 0 ? names.Count : names.IndexOf(weighted[from]);
                    foreach (var name in names.Skip(start)) backbone.FreezePrefix(name, frozen: false);
                }
                else if (backbone.FreezePrefix(spec, frozen: false) == 0)
                    throw new ArgumentException($"--unfreeze '{spec}' matches no parameter of the backbone; its names start with " +
                        $"{string.Join(", ", backbone.Parameters.Keys.Take(4))} ….", nameof(spec));
                break;
        }
        return backbone.Parameters.Values.Count(p => p.RequiresGrad);
    }

    private static TensorShape ShapeOf(Graph g) => Compiler.ShapeInference.Infer(g)[g.Outputs[0]];
}
