using VulkanCnn.Nn;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Training;

/// <summary>A linear classifier over a pretrained backbone's feature vectors (transfer learning: <c>vkcnn finetune</c>,
/// the viewer's teach-by-showing), trained on the GPU with the Training optimizers and saved as safetensors with its
/// class labels and backbone in the metadata.</summary>
public static class LinearHead
{
    public static Sequential Create(int features, int classes) => new(Layers.Linear(features, classes));

    /// <summary>Full-batch Adam on the feature vectors; returns the final training accuracy.</summary>
    public static double Train(GpuDevice gpu, Sequential head, float[][] features, int[] labels, int steps = 200, double lr = 1e-2)
    {
        int n = features.Length, width = features.Length > 0 ? features[0].Length : 0;
        if (n == 0 || n != labels.Length || features.Any(f => f.Length != width))
            throw new ArgumentException(
                $"Give one label per feature vector and vectors of one length; got {n} vectors and {labels.Length} labels.",
                nameof(features));
        var x = features.SelectMany(f => f).ToArray();
        var y = labels.Select(l => (float)l).ToArray();
        using var trainer = new Trainer(gpu, head, [n, width], p =>
            new Adam(gpu, p, lr, weightDecay: 1e-4, decoupledWeightDecay: true));
        StepResult last = default;
        for (int s = 0; s < steps; s++) last = trainer.Step(x, y, lr);
        trainer.CopyParametersToModule();
        return (double)last.Correct / n;
    }

    public static void Save(Sequential head, string path, IReadOnlyList<string> labels, string backbone) =>
        head.SaveSafetensors(path, new Dictionary<string, string>
        {
            ["format"] = "vkcnn-head",
            ["backbone"] = backbone,
            ["labels"] = System.Text.Json.JsonSerializer.Serialize(labels),
        });

    /// <summary>A head written by <see cref="Save"/> over <paramref name="features"/>-long vectors.</summary>
    public static (Sequential Head, string[] Labels) Load(string path, int features)
    {
        var (_, meta) = Safetensors.Load(path);
        if (!meta.TryGetValue("format", out var f) || f != "vkcnn-head" || !meta.TryGetValue("labels", out var json))
            throw new SafetensorsException(path, "is not a head written by `vkcnn finetune`");
        var labels = System.Text.Json.JsonSerializer.Deserialize<string[]>(json) ?? [];
        if (labels.Length < 2) throw new SafetensorsException(path, $"names {labels.Length} classes; a head has at least 2");
        var head = Create(features, labels.Length);
        head.LoadSafetensors(path);
        return (head, labels);
    }
}
