using VulkanCnn.Compiler;
using VulkanCnn.Models;
using VulkanCnn.Nn;
using VulkanCnn.Onnx;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Tests.Onnx;
using VulkanCnn.Training;

namespace VulkanCnn.Tests.Training;

/// <summary>
/// An imported ONNX graph trains end to end: the small CNN exported to ONNX and imported as a <see cref="GraphModule"/> takes the
/// same SGD steps as the module it was exported from (every parameter and running statistic, by name), and frozen prefixes stay
/// as they were.
/// </summary>
public sealed class GraphModuleTests(GpuFixture gpu) : GpuTest(gpu)
{
    private static readonly VulkanCnn.TensorShape Shape = new(8, 1, 8, 8);

    private static (Module Native, GraphModule Imported) Pair()
    {
        Init.ManualSeed(21);
        var native = SmallModels.SmallCnn(1, 10, 8);
        string path = Path.Combine(OnnxModels.TempFolder(), "small-cnn.onnx");
        OnnxExporter.Save(native.ToGraph(Shape, "small-cnn"), path);
        return (native, new GraphModule(OnnxImporter.Load(path)));
    }

    private static (float[] Images, float[] Labels) Batch() =>
        (Reference.Random((int)Shape.ElementCount, 22), Enumerable.Range(0, Shape[0]).Select(i => (float)(i * 3 % 10)).ToArray());

    [Fact]
    public void An_imported_graph_trains_like_the_module_it_was_exported_from()
    {
        var (native, imported) = Pair();
        var state = native.StateDict();
        Assert.Equal(state.Keys.Order(StringComparer.Ordinal), imported.StateDict().Keys.Order(StringComparer.Ordinal));
        Assert.Equal(state.Where(p => p.Value.RequiresGrad).Select(p => p.Key).Order(StringComparer.Ordinal),
            imported.Parameters.Where(p => p.Value.RequiresGrad).Select(p => p.Key).Order(StringComparer.Ordinal));
        var (images, labels) = Batch();
        using var a = new Trainer(Device, native, Shape, p => new Sgd(Device, p, 0.05, momentum: 0.9));
        using var b = new Trainer(Device, imported, Shape, p => new Sgd(Device, p, 0.05, momentum: 0.9));
        for (int step = 0; step < 3; step++)
        {
            var (la, lb) = (a.Step(images, labels, 0.05), b.Step(images, labels, 0.05));
            Assert.True(Math.Abs(la.Loss - lb.Loss) <= 1e-4 * Math.Max(1, Math.Abs(la.Loss)), $"step {step}: loss {la.Loss} vs {lb.Loss}");
        }
        a.CopyParametersToModule();
        b.CopyParametersToModule();
        var trained = imported.StateDict();
        foreach (var (name, p) in native.StateDict())
            Tolerance.AssertClose(p.Data, trained[name].Data, Tolerance.Op, name);
    }

    [Fact]
    public void Frozen_prefixes_keep_their_values_and_the_rest_trains()
    {
        var (_, imported) = Pair();
        var head = imported.Parameters.Keys.Last(k => k.EndsWith(".weight", StringComparison.Ordinal));
        string headPrefix = head[..head.LastIndexOf('.')];
        int frozen = imported.FreezePrefix("");
        Assert.Equal(frozen, imported.Parameters.Count(p => !p.Key.Contains("running", StringComparison.Ordinal)));
        Assert.Equal(2, imported.FreezePrefix(headPrefix, frozen: false)); // weight and bias
        var before = imported.Parameters.ToDictionary(p => p.Key, p => p.Value.Data.ToArray());
        var (images, labels) = Batch();
        using (var trainer = new Trainer(Device, imported, Shape, p => new Sgd(Device, p, 0.05, momentum: 0.9)))
        {
            for (int step = 0; step < 2; step++) trainer.Step(images, labels, 0.05);
            trainer.CopyParametersToModule();
        }
        foreach (var (name, p) in imported.Parameters)
        {
            bool trains = name.StartsWith(headPrefix, StringComparison.Ordinal);
            bool statistic = name.Contains("running", StringComparison.Ordinal);
            if (trains || statistic) Assert.NotEqual(before[name], p.Data);
            else Assert.Equal(before[name], p.Data);
        }
    }

    /// <summary>A frozen BatchNorm normalises a training step with its running statistics (the loss of the first step is the
    /// inference session's, which it is not with batch statistics) and leaves them as they were, while its scale and shift train.
    /// </summary>
    [Fact]
    public void Frozen_BatchNorms_normalise_with_their_running_statistics_and_keep_them()
    {
        var (images, labels) = Batch();
        float FirstLoss(bool frozen, out GraphModule module, out Dictionary<string, float[]> before)
        {
            var (_, imported) = Pair();
            var rng = new Random(5);
            foreach (var (name, p) in imported.Parameters.Where(p => p.Key.Contains("running", StringComparison.Ordinal)))
                for (int i = 0; i < p.Data.Length; i++) p.Data[i] = name.EndsWith("var", StringComparison.Ordinal)
                    ? 0.5f + rng.NextSingle() : rng.NextSingle() - 0.5f;
            Assert.Equal(frozen ? 2 : 0, imported.FreezeBatchNorm(frozen));
            module = imported;
            before = imported.Parameters.ToDictionary(p => p.Key, p => p.Value.Data.ToArray());
            using var trainer = new Trainer(Device, imported, Shape, p => new Sgd(Device, p, 0.05, momentum: 0.9));
            float loss = trainer.Step(images, labels, 0.05).Loss;
            trainer.Step(images, labels, 0.05);
            trainer.CopyParametersToModule();
            return loss;
        }
        float frozenLoss = FirstLoss(true, out var module, out var before);
        float batchLoss = FirstLoss(false, out _, out _);

        var (_, fresh) = Pair();   // the same weights, evaluated by an inference session with the same running statistics
        foreach (var (name, p) in fresh.Parameters) before[name].CopyTo(p.Data, 0);
        using var session = Device.Compile(fresh.ToGraph(Shape), Shape);
        var logits = session.Run(images);
        double expected = 0;
        for (int n = 0; n < Shape[0]; n++)
        {
            var row = logits.AsSpan(n * 10, 10).ToArray();
            double max = row.Max(), sum = row.Sum(v => Math.Exp(v - max));
            expected += -(row[(int)labels[n]] - max - Math.Log(sum)) / Shape[0];
        }
        Assert.True(Math.Abs(frozenLoss - expected) <= 1e-4 * Math.Max(1, expected), $"frozen {frozenLoss} vs inference {expected}");
        Assert.True(Math.Abs(batchLoss - expected) > 1e-2, $"with batch statistics the loss {batchLoss} should differ from {expected}");
        foreach (var (name, p) in module.Parameters)
            if (name.Contains("running", StringComparison.Ordinal)) Assert.Equal(before[name], p.Data);
            else Assert.NotEqual(before[name], p.Data);
    }

    [Fact]
    public void A_graph_with_two_inputs_or_an_unknown_output_is_refused_by_name()
    {
        var g = new Ir.Graph { Name = "two" };
        g.Inputs.Add(new Ir.ValueInfo("a", [1, 4]));
        g.Inputs.Add(new Ir.ValueInfo("b", [1, 4]));
        g.Nodes.Add(new Ir.Node("Add", "add", ["a", "b"], ["y"]));
        g.Outputs.Add("y");
        Assert.Contains("2 inputs", Assert.Throws<ArgumentException>(() => new GraphModule(g)).Message);
        g.Inputs.RemoveAt(1);
        g.Nodes[0].Inputs[1] = "a";
        Assert.Contains("'features'", Assert.Throws<ArgumentException>(() => new GraphModule(g, "features")).Message);
    }
}
