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
