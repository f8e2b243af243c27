using Google.Protobuf;
using Onnx;
using System.Globalization;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Models;
using VulkanCnn.Nn;
using VulkanCnn.Onnx;
using VulkanCnn.Tests.Infrastructure;
using IrGraph = VulkanCnn.Ir.Graph;

namespace VulkanCnn.Tests.Onnx;

/// <summary>
/// OnnxExporter: models built with the nn API (random weights and batch-norm statistics) and a
/// graph with every op type, exported to opset 17 and checked three ways — ONNX Runtime reproduces
/// the GPU session's outputs, the importer reads the file back to the same outputs, and the node
/// and attribute structure survives the round trip.
/// </summary>
public sealed class OnnxExportTests(GpuFixture gpu) : GpuTest(gpu)
{
    public static TheoryData<string> ModelNames =>
        new() { "small-cnn", "small-resnet", "activations", "inception", "audio-1d", "video-3d" };

    private static (Module Model, int[] Shape) CreateModel(string name)
    {
        Init.ManualSeed(name.Length * 31 + 7);
        (Module, int[]) made = name switch
        {
            "small-cnn" => (SmallModels.SmallCnn(1, 10, 8), [2, 1, 8, 8]),
            "small-resnet" => (SmallModels.SmallResNet(1, 7), [2, 1, 10, 10]),
            "activations" => (new Sequential(
                Layers.Conv2d(3, 6, 3, padding: 1), Layers.BatchNorm2d(6), Layers.ReLU6(),
                Layers.Conv2d(6, 8, 3, stride: 2, padding: 1), Layers.Hardswish(),
                Layers.Conv2d(8, 8, 1), Layers.Sigmoid(),
                Layers.Conv2d(8, 8, 3, padding: 1), Layers.SiLU(),
                Layers.Conv2d(8, 8, 1), Layers.GELU(), Layers.Conv2d(8, 8, 1), Layers.GELU(tanhApproximation: true),
                Layers.LeakyReLU(0.1f), Layers.Hardsigmoid(), Layers.ELU(0.8f), Layers.Tanh(),
                Layers.AdaptiveAvgPool2d(), Layers.Flatten(), Layers.Linear(8, 5), Layers.Softmax(1)), [2, 3, 9, 7]),
            "inception" =>
                (new Sequential(Layers.Conv2d(4, 8, 3, padding: 1), Layers.BatchNorm2d(8), Layers.ReLU(), new InceptionBlock(8, 4, 6)),
                    [2, 4, 9, 11]),
            "audio-1d" => (AudioNet(), [2, 1, 64]),
            "video-3d" => (VideoNet(), [1, 2, 4, 8, 8]),
            _ => throw new ArgumentException(name),
        };
        RandomizeBatchNorm(made.Item1, name.Length);
        return made;
    }

    /// <summary>A keyword-spotting-sized 1-D CNN over a waveform, from the nn builder's 1-D layers.</summary>
    internal static Sequential AudioNet() => new(
        Layers.Conv1d(1, 6, 5, stride: 2, padding: 2), Layers.BatchNorm1d(6), Layers.ReLU(), Layers.MaxPool1d(2),
        Layers.Conv1d(6, 8, 3, padding: 2, dilation: 2), Layers.ReLU(), Layers.AvgPool1d(2), Layers.Conv1d(8, 8, 3, padding: 1, groups: 2),
        Layers.ReLU(), Layers.AdaptiveAvgPool1d(), Layers.Flatten(), Layers.Linear(8, 4));

    /// <summary>A small 3-D CNN over a clip, from the nn builder's 3-D layers.</summary>
    internal static Sequential VideoNet() => new(
        Layers.Conv3d(2, 4, 3, padding: 1), Layers.BatchNorm3d(4), Layers.ReLU(), Layers.MaxPool3d(2),
        Layers.Conv3d(4, 6, (1, 3, 3), padding: (0, 1, 1)), Layers.ReLU(), Layers.AvgPool3d(2, ceilMode: true),
        Layers.AdaptiveAvgPool3d(), Layers.Flatten(), Layers.Linear(6, 3));

    /// <summary>Trained-looking statistics: the defaults (mean 0, var 1, weight 1, bias 0) would hide a wrong order of the BN
    /// inputs.</summary>
    private static void RandomizeBatchNorm(Module model, int seed)
    {
        var state = model.StateDict();
        var rng = new Random(seed);
        void Fill(string key, float low, float high)
        {
            var data = state[key].Data;
            for (int i = 0; i < data.Length; i++) data[i] = low + rng.NextSingle() * (high - low);
        }
        foreach (var key in state.Keys.Where(k => k.EndsWith(".running_mean", StringComparison.Ordinal)).ToList())
        {
            string prefix = key[..^"running_mean".Length];
            Fill(prefix + "running_mean", -0.5f, 0.5f);
            Fill(prefix + "running_var", 0.5f, 1.5f);
            Fill(prefix + "weight", 0.5f, 1.5f);
            Fill(prefix + "bias", -0.3f, 0.3f);
        }
    }

    private static string TempModel(string name = "model.onnx") => Path.Combine(OnnxModels.TempFolder(), name);

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void Exported_nn_models_run_the_same_in_ONNX_Runtime_and_after_reimport(string name)
    {
        var (model, dims) = CreateModel(name);
        var shape = new TensorShape(dims);
        var graph = model.ToGraph(shape, name);
        var x = Reference.Random((int)shape.ElementCount, 11);
        using var session = Device.Compile(graph, shape);
        var ours = session.Run(x);

        string path = TempModel();
        OnnxExporter.Save(graph, path);
        using (var ort = new OrtRunner(path))
        {
            var theirs = ort.RunSingle(new NamedTensor(x, dims));
            Assert.Equal(session.OutputShape.Dimensions.ToArray(), theirs.Shape);
            Tolerance.AssertClose(theirs.Data, ours, Tolerance.Network, name + " vs ONNX Runtime");
        }

        var reimported = OnnxImporter.Load(path);
        Assert.Equal(graph.Initializers.Keys.Order(StringComparer.Ordinal),
            reimported.Initializers.Keys.Where(graph.Initializers.ContainsKey).Order(StringComparer.Ordinal));
        using var again = Device.Compile(reimported, shape);
        Tolerance.AssertClose(ours, again.Run(x), Tolerance.Op, name + " reimported");

        // The session's optimised graph (BN folded, activations fused into conv/gemm/add) exports too.
        string optimized = TempModel();
        OnnxExporter.Save(session.Graph, optimized);
        Assert.True(session.Passes.ActivationsFused > 0, "the optimised graph should hold fused activations");
        if (name == "small-resnet") Assert.True(session.Passes.ResidualAddsFused > 0, "the optimised graph should hold residual convs");
        Assert.DoesNotContain(ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimized)).Graph.Node,
            n => n.Attribute.Any(a => a.Name.StartsWith("vkcnn.", StringComparison.Ordinal)));
        using var ortOptimized = new OrtRunner(optimized);
        Tolerance.AssertClose(ortOptimized.RunSingle(new NamedTensor(x, dims)).Data, ours, Tolerance.Network,
            name + " optimised vs ONNX Runtime");
    }

    [Theory]
    [MemberData(nameof(OnnxFixtures.Names), MemberType = typeof(OnnxFixtures))]
    public void Imported_PyTorch_models_re_exported_at_opset_17_still_give_PyTorchs_output(string name)
    {
        // Opsets 11 and 13 as PyTorch writes them: import, export at 17, run the new file in ONNX Runtime.
        var fixture = OnnxFixtures.Get(name);
        string path = TempModel();
        OnnxExporter.Save(OnnxImporter.Load(fixture.ModelPath), path);
        using var ort = new OrtRunner(path);
        var output = ort.RunSingle(fixture.Input);
        Assert.Equal(fixture.ExpectedOutput.Shape, output.Shape);
        Tolerance.AssertClose(fixture.ExpectedOutput.Data, output.Data, Tolerance.Network, name);
    }

    [Fact]
    public void The_pretrained_ResNet18_re_exported_at_opset_17_matches_the_original_in_ONNX_Runtime()
    {
        // A CNTK-era file (opset 8 forms): the re-exported model computes what the original does.
        string path = TempModel();
        OnnxExporter.Save(OnnxImporter.Load(PretrainedModels.ResNet18Onnx), path);
        using var original = new OrtRunner(PretrainedModels.ResNet18Onnx);
        using var exported = new OrtRunner(path);
        var shape = original.Inputs[0].Shape.Select(d => d < 0 ? 1 : d).ToArray();
        var x = Reference.Random(shape.Aggregate(1, (a, b) => a * b), 21, 0, 100);
        Tolerance.AssertClose(original.RunSingle(new NamedTensor(x, shape)).Data, exported.RunSingle(new NamedTensor(x, shape)).Data,
            Tolerance.Op, "ResNet18");
    }

    [Theory]
    [InlineData("pad_wrap", "opset 19")]
    [InlineData("avgpool_dilated", "opset 19")]
    [InlineData("resize_symmetric", "opset 19")]
    [InlineData("upsample_mixed", "enlarge one axis and shrink another")]
    [InlineData("resize_policy_rounding", "floor it to")]
    public void Forms_opset_17_cannot_express_are_refused_naming_the_node(string node, string why)
    {
        var g = new IrGraph { Name = "refused" };
        g.Inputs.Add(new ValueInfo("x", [1, 2, 6, 5]));
        g.Initializers["pads"] = HostTensor.FromInts([8], [0, 0, 1, 1, 0, 0, 1, 1]);
        g.Initializers["scales"] = HostTensor.FromFloats([4], [1, 1, 0.5f, 2]);
        g.Initializers["sizes"] = HostTensor.FromInts([2], [9, 9]);
        g.Nodes.Add(node switch
        {
            "pad_wrap" => new Node("Pad", node, ["x", "pads"], ["y"], new Attributes().Set("mode", "wrap")),
            "avgpool_dilated" =>
                new Node("AveragePool", node, ["x"], ["y"],
                    new Attributes().Set("kernel_shape", new[] { 2, 2 }).Set("dilations", new[] { 2, 1 })),
            "resize_symmetric" =>
                new Node("Resize", node, ["x", "", "scales"], ["y"],
                    new Attributes().Set("coordinate_transformation_mode", "half_pixel_symmetric")),
            "upsample_mixed" => new Node("Upsample", node, ["x"], ["y"], new Attributes().Set("scales", new[] { 1f, 1, 0.5f, 2 })),
            // not_larger: ratio min(9/6, 9/5) = 1.5, so W = round(7.5) = 8 where opset-17 scales floor to 7.
            _ => new Node("Resize", node, ["x", "", "", "sizes"], ["y"],
                new Attributes().Set("axes", new[] { 2, 3 }).Set("keep_aspect_ratio_policy", "not_larger")),
        });
        g.Outputs.Add("y");
        var e = Assert.Throws<OnnxExportException>(() => OnnxExporter.ToModel(g));
        Assert.Equal(node, e.NodeName);
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void The_model_header_declares_opset_17_the_producer_and_typed_shaped_inputs_and_outputs()
    {
        var (model, dims) = CreateModel("small-cnn");
        var graph = model.ToGraph(new TensorShape(dims), "header");
        var proto = OnnxExporter.ToModel(graph,
            new OnnxExportOptions { DocString = "a test", Metadata = new Dictionary<string, string> { ["labels"] = "a,b" } });
        Assert.Equal(8, proto.IrVersion);
        Assert.Equal(17, Assert.Single(proto.OpsetImport, o => o.Domain == "").Version);
        Assert.Equal("VulkanCnn", proto.ProducerName);
        Assert.Equal("a test", proto.DocString);
        Assert.Equal("a,b", Assert.Single(proto.MetadataProps).Value);
        Assert.Equal("header", proto.Graph.Name);
        var input = Assert.Single(proto.Graph.Input);
        Assert.Equal("input", input.Name);
        Assert.Equal(1, input.Type.TensorType.ElemType);
        Assert.Equal(dims.Select(d => (long)d), input.Type.TensorType.Shape.Dim.Select(d => d.DimValue));
        var output = Assert.Single(proto.Graph.Output);
        Assert.Equal(graph.Outputs[0], output.Name);
        Assert.Equal([2L, 10L], output.Type.TensorType.Shape.Dim.Select(d => d.DimValue));
        // Initializers: raw float32 data, one per parameter.
        Assert.Equal(graph.Initializers.Count, proto.Graph.Initializer.Count);
        Assert.All(proto.Graph.Initializer, t =>
        {
            Assert.Equal(1, t.DataType);
            Assert.Equal(graph.Initializers[t.Name].Shape.Dimensions.ToArray().Select(d => (long)d), t.Dims);
            Assert.Equal(graph.Initializers[t.Name].Floats!, System.Runtime.InteropServices.MemoryMarshal.Cast<byte,
                float>(t.RawData.Span).ToArray());
        });
        Assert.Equal(graph.Nodes.Select(n => n.OpType), proto.Graph.Node.Select(n => n.OpType));
        Assert.Contains(proto.Graph.ValueInfo, v => v.Name == graph.Nodes[0].Outputs[0]);
    }

    [Fact]
    public void A_graph_with_every_op_type_matches_ONNX_Runtime_and_round_trips_its_structure()
    {
        var every = new EveryOpGraph();
        var graph = every.Graph;
        var missing = OnnxExporter.SupportedOpTypes.Except(graph.Nodes.Select(n => n.OpType)).ToList();
        Assert.True(missing.Count == 0, "the graph lacks " + string.Join(", ", missing));

        string path = TempModel();
        OnnxExporter.Save(graph, path);
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        AssertOpset17Forms(proto);

        // Numbers: the GPU session on the IR graph, ONNX Runtime on the file, the session on the re-imported graph.
        var x = Reference.Random(EveryOpGraph.InputShape.Aggregate(1, (a, b) => a * b), 3);
        var inputs = new Dictionary<string, HostTensor> { ["x"] = HostTensor.FromFloats(EveryOpGraph.InputShape, x) };
        IReadOnlyDictionary<string, HostTensor> ours;
        using (var session = Device.Compile(graph)) ours = session.Run(inputs);
        var theirs = OrtRunner.Run(path, new Dictionary<string, NamedTensor> { ["x"] = new(x, EveryOpGraph.InputShape) });
        Assert.Equal(graph.Outputs.Order(StringComparer.Ordinal), theirs.Keys.Order(StringComparer.Ordinal));
        foreach (var name in graph.Outputs)
        {
            Assert.True(ours[name].Shape.Dimensions.SequenceEqual(theirs[name].Shape),
                $"{name}: ours {ours[name].Shape}, ORT {theirs[name]}");
            Tolerance.AssertClose(theirs[name].Data, ours[name].Floats!, Tolerance.Op, name);
        }
        var reimported = OnnxImporter.Load(path);
        using (var session = Device.Compile(reimported))
        {
            var again = session.Run(inputs);
            foreach (var name in graph.Outputs) Tolerance.AssertClose(ours[name].Floats!, again[name].Floats!, Tolerance.Op,
                name + " reimported");
        }

        // Structure: canonical (opset-17) nodes come back with the same op, outputs, attributes and inputs.
        var back = reimported.Nodes.ToDictionary(n => n.Name);
        foreach (var name in every.Canonical)
        {
            var original = graph.Nodes.Single(n => n.Name == name);
            Assert.True(back.TryGetValue(name, out var node), $"node '{name}' did not come back");
            Assert.Equal(original.OpType, node!.OpType);
            Assert.Equal(original.Outputs, node.Outputs);
            Assert.Equal(Describe(original.Attributes), Describe(node.Attributes));
            Assert.Equal(original.Inputs.Count, node.Inputs.Count);
            for (int i = 0; i < original.Inputs.Count; i++)
            {
                string a = original.Inputs[i], b = node.Inputs[i];
                if (graph.Initializers.TryGetValue(a, out var constant))
                {
                    // Constants may be renamed when their type changes (Where's condition becomes BOOL): compare values.
                    Assert.True(reimported.Initializers.TryGetValue(b, out var read),
                        $"{name}: input {i} '{b}' is not a constant after import");
                    Assert.Equal(constant.Shape, read!.Shape);
                    Assert.Equal(constant.AsFloats(), read.AsFloats());
                }
                else Assert.Equal(a, b);
            }
        }
        Assert.Equal(graph.Outputs, reimported.Outputs);
    }

    /// <summary>No form the target opset lacks: ONNX Runtime refuses unknown attributes, this names the rewrite that failed.</summary>
    private static void AssertOpset17Forms(ModelProto proto)
    {
        var nodes = proto.Graph.Node;
        string[] gone = ["Silu", "Gelu", "Upsample"];
        Assert.DoesNotContain(nodes, n => gone.Contains(n.OpType));
        Assert.DoesNotContain(nodes, n => n.Attribute.Any(a => a.Name.StartsWith("vkcnn.", StringComparison.Ordinal)));
        bool Has(NodeProto n, string attribute) => n.Attribute.Any(a => a.Name == attribute);
        Assert.All(nodes.Where(n => n.OpType == "Clip"), n => Assert.Empty(n.Attribute));
        Assert.All(nodes.Where(n => n.OpType is "Squeeze" or "Unsqueeze" or "ReduceSum"), n => Assert.False(Has(n, "axes"), n.Name));
        Assert.All(nodes.Where(n => n.OpType is "ReduceMean" or "ReduceMax" or "ReduceMin"), n =>
        {
            Assert.Single(n.Input);
            Assert.False(Has(n, "noop_with_empty_axes"), n.Name);
        });
        Assert.All(nodes.Where(n => n.OpType == "Split"), n => Assert.False(Has(n, "num_outputs") || Has(n, "split"), n.Name));
        Assert.All(nodes.Where(n => n.OpType == "Pad"), n => Assert.False(n.Input.Count > 3 || Has(n, "pads") || Has(n, "value"), n.Name));
        Assert.All(nodes.Where(n => n.OpType == "Resize"), n =>
            Assert.False(Has(n, "axes") || Has(n, "antialias") || Has(n, "keep_aspect_ratio_policy"), n.Name));
        Assert.All(nodes.Where(n => n.OpType == "Slice"), n => Assert.Empty(n.Attribute));
        Assert.All(nodes.Where(n => n.OpType is "TopK" or "Dropout"), n =>
            Assert.False(Has(n, "k") || Has(n, "ratio") || Has(n, "training_mode"), n.Name));
        Assert.DoesNotContain(nodes.Single(n => n.Name == "avgpool_dilations").Attribute, a => a.Name == "dilations");
        Assert.DoesNotContain(nodes.Single(n => n.Name == "cast_saturate").Attribute, a => a.Name == "saturate");
        // Silu → Sigmoid + Mul keeping the node's name on the Mul; the ReduceMax with noop and no axes is an Identity.
        Assert.Equal("Mul", nodes.Single(n => n.Name == "silu").OpType);
        Assert.Equal("Identity", nodes.Single(n => n.Name == "reducemax_noop").OpType);
        Assert.Contains(nodes, n => n.OpType == "Erf");
        // A fused activation follows its producer as a node of its own.
        var conv = nodes.Single(n => n.Name == "conv_relu6");
        var clip = nodes.Single(n => n.Input.Count > 0 && n.Input[0] == conv.Output[0]);
        Assert.Equal("Clip", clip.OpType);
        Assert.Equal("conv_relu6_y", clip.Output[0]);
    }

    private static string Describe(Attributes a) =>
        string.Join("; ", a.Names.Order(StringComparer.Ordinal).Select(k => k + "=" + a[k] switch
        {
            long[] v => "[" + string.Join(",", v) + "]",
            float[] v => "[" + string.Join(",", v.Select(f => f.ToString("R", CultureInfo.InvariantCulture))) + "]",
            float f => f.ToString("R", CultureInfo.InvariantCulture),
            var v => Convert.ToString(v, CultureInfo.InvariantCulture),
        }));

    [Fact]
    public void A_failing_export_leaves_an_existing_file_untouched()
    {
        var (model, dims) = CreateModel("small-cnn");
        string path = TempModel();
        OnnxExporter.Save(model.ToGraph(new TensorShape(dims)), path);
        byte[] before = File.ReadAllBytes(path);

        // Pad mode 'wrap' is opset 19: the exporter refuses it, naming the node, before touching the file.
        var bad = new IrGraph { Name = "bad" };
        bad.Inputs.Add(new ValueInfo("x", [1, 2, 3]));
        bad.Initializers["pads"] = HostTensor.FromInts([6], [0, 0, 1, 0, 0, 1]);
        bad.Nodes.Add(new Node("Relu", "relu", ["x"], ["r"]));
        bad.Nodes.Add(new Node("Pad", "wrap_pad", ["r", "pads"], ["y"], new Attributes().Set("mode", "wrap")));
        bad.Outputs.Add("y");
        var e = Assert.Throws<OnnxExportException>(() => OnnxExporter.Save(bad, path));
        Assert.Equal("wrap_pad", e.NodeName);
        Assert.Contains("opset 19", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));

        // An op type with no ONNX counterpart, named.
        bad.Nodes.Add(new Node("FancyOp", "fancy", ["r"], ["z"]));
        bad.Nodes.RemoveAll(n => n.OpType == "Pad");
        bad.Outputs[0] = "z";
        e = Assert.Throws<OnnxExportException>(() => OnnxExporter.Save(bad, path));
        Assert.Equal("fancy", e.NodeName);
        Assert.Contains("FancyOp", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));

        // A write that fails (the target is a folder) leaves no temporary file behind.
        string folder = Path.GetDirectoryName(path)!;
        string blocked = Path.Combine(folder, "blocked.onnx");
        Directory.CreateDirectory(blocked);
        var failure = Record.Exception(() => OnnxExporter.Save(model.ToGraph(new TensorShape(dims)), blocked));
        Assert.True(failure is IOException or UnauthorizedAccessException, $"expected an I/O failure, got {failure}");
        Assert.Equal(["model.onnx"], Directory.GetFiles(folder).Select(Path.GetFileName));
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void Integer_and_boolean_inputs_get_the_types_ONNX_requires()
    {
        // An int64 constant added to float data becomes a float initializer; ArgMax's int64 output read as
        // float data gets a Cast; Where's int64 condition becomes BOOL.
        var g = new IrGraph { Name = "types" };
        g.Inputs.Add(new ValueInfo("x", [2, 5]));
        g.Initializers["offset"] = HostTensor.FromInts([5], [1, 2, 3, 4, 5]);
        g.Initializers["cond"] = HostTensor.FromInts([5], [1, 0, 1, 0, 0]);
        g.Nodes.Add(new Node("Add", "add", ["x", "offset"], ["shifted"]));
        g.Nodes.Add(new Node("ArgMax", "argmax", ["shifted"], ["index"], new Attributes().Set("axis", 1)));
        g.Nodes.Add(new Node("Mul", "scale", ["shifted", "index"], ["scaled"]));
        g.Nodes.Add(new Node("Where", "where", ["cond", "scaled", "x"], ["y"]));
        g.Outputs.Add("y");
        g.Outputs.Add("index");
        var proto = OnnxExporter.ToModel(g);
        Assert.Equal(1, proto.Graph.Initializer.Single(t => t.Name == "offset/float").DataType);
        Assert.Equal(9, proto.Graph.Initializer.Single(t => t.Name == "cond/bool").DataType);
        Assert.Contains(proto.Graph.Node, n => n.OpType == "Cast" && n.Input[0] == "index");
        Assert.Equal(7, proto.Graph.Output.Single(o => o.Name == "index").Type.TensorType.ElemType);

        string path = TempModel();
        File.WriteAllBytes(path, proto.ToByteArray());
        var x = Reference.Random(10, 4);
        using var session = Device.Compile(g);
        var ours = session.Run(new Dictionary<string, HostTensor> { ["x"] = HostTensor.FromFloats([2, 5], x) });
        var theirs = OrtRunner.Run(path, new Dictionary<string, NamedTensor> { ["x"] = new(x, [2, 5]) });
        Tolerance.AssertClose(theirs["y"].Data, ours["y"].Floats!, Tolerance.Op, "y");
        Assert.Equal(theirs["index"].Data, ours["index"].Floats!);
    }
}
