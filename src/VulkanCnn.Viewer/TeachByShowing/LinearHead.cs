using VulkanCnn.Nn;
using VulkanCnn.Training;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Viewer.TeachByShowing;

/// <summary>A linear classifier over backbone features, trained on the GPU with the Training optimizers and
/// saved as safetensors with its class labels in the metadata.</summary>
public static class LinearHead
{
    public static Sequential Create(int classes) => new(nn.Linear(Backbone.Features, classes));

    /// <summary>Full-batch Adam on the feature vectors; returns the final training accuracy.</summary>
    public static double Train(GpuDevice gpu, Sequential head, float[][] features, int[] labels, int steps = 200, double lr = 1e-2)
    {
        int n = features.Length;
        var x = features.SelectMany(f => f).ToArray();
        var y = labels.Select(l => (float)l).ToArray();
        using var trainer = new Trainer(gpu, head, [n, Backbone.Features], p =>
            new Adam(gpu, p, lr, weightDecay: 1e-4, decoupledWeightDecay: true));
        StepResult last = default;
        for (int s = 0; s < steps; s++) last = trainer.Step(x, y, lr);
        trainer.CopyParametersToModule();
        return (double)last.Correct / n;
    }

    public static void Save(Sequential head, string path, IReadOnlyList<string> labels) =>
        head.SaveSafetensors(path, new Dictionary<string, string>
        {
            ["format"] = "vkcnn-head",
            ["backbone"] = "ResNet18 (Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1)",
            ["labels"] = System.Text.Json.JsonSerializer.Serialize(labels),
        });

    public static (Sequential Head, string[] Labels) Load(string path)
    {
        var (_, meta) = Safetensors.Load(path);
        if (!meta.TryGetValue("format", out var f) || f != "vkcnn-head" || !meta.TryGetValue("labels", out var json))
            throw new SafetensorsException(path, "is not a head written by `vkcnn finetune`");
        var labels = System.Text.Json.JsonSerializer.Deserialize<string[]>(json) ?? [];
        if (labels.Length < 2) throw new SafetensorsException(path, $"names {labels.Length} classes; a head has at least 2");
        var head = Create(labels.Length);
        head.LoadSafetensors(path);
        return (head, labels);
    }
}
