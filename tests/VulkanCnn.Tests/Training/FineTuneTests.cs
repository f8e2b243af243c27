using VulkanCnn.Cli.Commands;
using VulkanCnn.Compiler;
using VulkanCnn.Models;
using VulkanCnn.Nn;
using VulkanCnn.Onnx;
using VulkanCnn.Tests.Cli;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Tests.Onnx;
using VulkanCnn.Training;

namespace VulkanCnn.Tests.Training;

/// <summary>Fine-tuning an imported network: the model <see cref="FineTune.Model"/> builds (backbone up to a feature value, global
/// pooling of spatial features, a new head), the unfreeze specs, and <c>vkcnn finetune --model</c> end to end.</summary>
public sealed class FineTuneTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>The small CNN (conv 32, BN, pool, conv 64, BN, pool, fc 128, fc 10) exported to ONNX at 8x8.</summary>
    private static Ir.Graph Backbone()
    {
        Init.ManualSeed(31);
        string path = Path.Combine(OnnxModels.TempFolder(), "backbone.onnx");
        OnnxExporter.Save(SmallModels.SmallCnn(1, 10, 8).ToGraph(new VulkanCnn.TensorShape(1, 1, 8, 8), "backbone"), path);
        return OnnxImporter.Load(path);
    }

    [Fact]
    public void Spatial_features_are_pooled_and_get_a_new_head_and_the_layers_after_them_are_left_out()
    {
        var backbone = Backbone();
        // The second conv block's ReLU output: [N, 64, 4, 4] at 16x16 (the fc layers after it must go).
        string features = backbone.Nodes.Where(n => n.OpType == "Relu").Select(n => n.Outputs[0]).ElementAt(1);
        var model = FineTune.Model(backbone, features, new VulkanCnn.TensorShape(1, 16, 16), classes: 3);
        var graph = model.ToGraph(new VulkanCnn.TensorShape(2, 1, 16, 16));
        Assert.DoesNotContain(graph.Nodes, n => n.OpType == "Gemm" && n.Inputs.Any(i => i.Contains("weight") && !i.StartsWith("3.")));
        Assert.Contains(graph.Nodes, n => n.OpType == "GlobalAveragePool");
        Assert.Equal(new VulkanCnn.TensorShape(3, 64), graph.Initializers["3.weight"].Shape); // Linear(64, 3) after pool and flatten
        using var session = Device.Compile(graph, new VulkanCnn.TensorShape(2, 1, 16, 16));
        Assert.Equal(new VulkanCnn.TensorShape(2, 3), session.OutputShape);
    }

    /// <summary>A parameter group: with the backbone at a tenth of the head's learning rate, one plain SGD step moves each backbone
    /// weight a tenth as far as it moves with the same rate, and the head as far.</summary>
    [Fact]
    public void The_backbone_learning_rate_scales_its_steps_and_not_the_head_s()
    {
        var shape = new VulkanCnn.TensorShape(4, 1, 8, 8);
        var images = Reference.Random((int)shape.ElementCount, 33);
        float[] labels = [0, 1, 2, 1];
        Dictionary<string, float[]> Step(double scale)
        {
            Init.ManualSeed(34);
            var model = FineTune.Model(Backbone(), null, new VulkanCnn.TensorShape(1, 8, 8), 3, "all", scale);
            var before = model.StateDict().ToDictionary(p => p.Key, p => p.Value.Data.ToArray());
            using (var trainer = new Trainer(Device, model, shape, p => new Sgd(Device, p, 0.1)))
            {
                trainer.Step(images, labels, 0.1);
                trainer.CopyParametersToModule();
            }
            return model.StateDict().Where(p => p.Value.RequiresGrad)
                .ToDictionary(p => p.Key, p => p.Value.Data.Select((v, i) => v - before[p.Key][i]).ToArray());
        }
        var full = Step(1);
        var tenth = Step(0.1);
        foreach (var (name, delta) in full)
        {
            bool head = !name.StartsWith("0.", StringComparison.Ordinal);   // the backbone is module 0
            var expected = delta.Select(d => head ? d : d * 0.1f).ToArray();
            Tolerance.AssertClose(expected, tenth[name], Tolerance.Op, name);
        }
        Assert.Contains(full.Keys, k => !k.StartsWith("0.", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("all", 12)]    // conv w, b; BN scale, shift; conv w, b; BN scale, shift; fc w, b; fc w, b
    [InlineData("none", 0)]
    [InlineData("last:1", 2)]  // the last fc's weight and bias
    [InlineData("last:2", 4)]
    [InlineData("last:3", 8)]  // from the second conv: its bias and BN come with it
    public void Unfreeze_specs_choose_the_trainable_backbone_parameters(string spec, int trainable)
    {
        var body = new GraphModule(Backbone());
        Assert.Equal(trainable, FineTune.Unfreeze(body, spec));
        Assert.All(body.Parameters.Where(p => p.Key.Contains("running", StringComparison.Ordinal)),
            p => Assert.False(p.Value.RequiresGrad));
    }

    [Fact]
    public void A_prefix_unfreezes_what_it_names_and_a_bad_spec_is_refused_naming_it()
    {
        var body = new GraphModule(Backbone());
        string first = body.Parameters.Keys.First();
        string prefix = first[..(first.IndexOf('.') + 1)];
        Assert.Equal(body.Parameters.Keys.Count(k => k.StartsWith(prefix, StringComparison.Ordinal) && !k.Contains("running")),
            FineTune.Unfreeze(body, prefix));
        Assert.Contains("'conv9'", Assert.Throws<ArgumentException>(() => FineTune.Unfreeze(body, "conv9")).Message);
        Assert.Contains("positive N", Assert.Throws<ArgumentException>(() => FineTune.Unfreeze(body, "last:0")).Message);
    }

    [Fact]
    public void Vkcnn_finetune_with_a_model_trains_the_imported_network_and_exports_it()
    {
        string root = Path.Combine(Path.GetTempPath(), "vkcnn-finetune-" + Guid.NewGuid().ToString("N"));
        try
        {
            TestImageFolders.Write(Path.Combine(root, "data"), [("dark", 50), ("light", 200)], perClass: 8, size: 8, seed: 2);
            // The backbone takes one grey channel; the folder's images are read as RGB: export one for 3 channels.
            Init.ManualSeed(32);
            string backbone = Path.Combine(root, "backbone.onnx");
            OnnxExporter.Save(SmallModels.SmallCnn(3, 10, 8).ToGraph(new VulkanCnn.TensorShape(1, 3, 8, 8), "backbone"), backbone);
            string output = Path.Combine(root, "model.safetensors");
            var (code, text) = CliInvoker.Invoke(FinetuneCommand.Create(), ["finetune", "--model", backbone, "--data",
                Path.Combine(root, "data"), "--size", "8", "--epochs", "2", "--batch", "4", "--lr", "0.02", "--unfreeze", "last:2",
                "--out", output]);
            Assert.True(code == 0, text);
            Assert.Contains("Test accuracy", text);
            using var ort = new OrtRunner(Path.ChangeExtension(output, ".onnx"));
            var logits = ort.RunSingle(new NamedTensor(new float[3 * 8 * 8], [1, 3, 8, 8]));
            Assert.Equal([1, 2], logits.Shape);   // the new head: two classes
            // Resume refuses nothing and continues the finished run: no epochs left, the same checkpoint.
            var (again, againText) = CliInvoker.Invoke(FinetuneCommand.Create(), ["finetune", "--model", backbone, "--data",
                Path.Combine(root, "data"), "--size", "8", "--out", output, "--resume", output]);
            Assert.True(again == 0, againText);
        }
        finally { Directory.Delete(root, true); }
    }
}
