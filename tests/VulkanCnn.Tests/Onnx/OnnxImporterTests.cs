using Google.Protobuf;
using Onnx;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Onnx;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Onnx.OnnxModels;

namespace VulkanCnn.Tests.Onnx;

/// <summary>The importer on models built here: opset normalisation, folding, initializers, external data, errors, Inspect.</summary>
public sealed class OnnxImporterTests(GpuFixture gpu) : GpuTest(gpu)
{
    private static VulkanCnn.Ir.Graph Load(ModelProto model, OnnxImportOptions? options = null) =>
        OnnxImporter.Load(new MemoryStream(model.ToByteArray()), options: options);

    private float[] Run(VulkanCnn.Ir.Graph graph, float[] x)
    {
        using var session = Device.Compile(graph);
        return session.Run(x);
    }

    /// <summary>Softmax before opset 13: the input coerced to [prod(dims[..axis]), prod(dims[axis..])], rows normalised.</summary>
    private static float[] CoercedSoftmax(float[] x, int[] dims, int axis, bool log)
    {
        int inner = dims.Skip(axis).Aggregate(1, (a, b) => a * b);
        var y = new float[x.Length];
        for (int row = 0; row < x.Length / inner; row++)
        {
            var v = x.Skip(row * inner).Take(inner).Select(f => (double)f).ToArray();
            double max = v.Max(), sum = v.Sum(e => Math.Exp(e - max));
            for (int i = 0; i < inner; i++)
                y[row * inner + i] = (float)(log ? v[i] - max - Math.Log(sum) : Math.Exp(v[i] - max) / sum);
        }
        return y;
    }

    [Theory]
    [InlineData("Softmax", 11, 1)]
    [InlineData("Softmax", 11, 0)]
    [InlineData("LogSoftmax", 9, 2)]
    [InlineData("Softmax", 11, -1)]
    [InlineData("Softmax", 1, null)]
    public void Softmax_before_opset_13_coerces_to_2d(string op, long opset, int? axis)
    {
        int[] dims = [2, 3, 4, 5];
        var node = axis is { } a ? Node(op, ["x"], ["y"], Attr("axis", (long)a)) : Node(op, ["x"], ["y"]);
        var graph = Load(Model(opset, Net([Input("x", 2L, 3L, 4L, 5L)], ["y"], [node])));
        var x = Reference.Random(120, 3, -3, 3);
        int coerced = axis is { } v ? (v < 0 ? v + 4 : v) : 1;
        Tolerance.AssertClose(CoercedSoftmax(x, dims, coerced, op == "LogSoftmax"), Run(graph, x), Tolerance.Op);
        if (coerced != 3) Assert.Equal(["Flatten", op, "Reshape"], graph.Nodes.Select(n => n.OpType));
    }

    [Fact]
    public void Softmax_of_opset_13_passes_through_with_its_single_axis()
    {
        var graph = Load(Model(13, Net([Input("x", 2L, 3L, 4L)], ["y"], [Node("Softmax", ["x"], ["y"], Attr("axis", 1L))])));
        Assert.Equal(1, graph.Nodes.Single().Attributes.Int("axis", -1));
    }

    [Fact]
    public void Legacy_broadcast_aligns_b_at_axis()
    {
        // Opset 6: Add(A [2,3,4,5], B [3]) with broadcast=1, axis=1 adds B per channel.
        var b = new float[] { 1, 10, 100 };
        var graph = Load(Model(6, Net([Input("x", 2L, 3L, 4L, 5L)], ["y"],
            [Node("Add", ["x", "b"], ["y"], Attr("broadcast", 1L), Attr("axis", 1L))], [Floats("b", [3], b)])));
        var x = Reference.Random(120, 4);
        var expected = x.Select((v, i) => v + b[i / 20 % 3]).ToArray();
        Tolerance.AssertClose(expected, Run(graph, x), Tolerance.Op);
        Assert.False(graph.Nodes.Single().Attributes.Has("broadcast"));
    }

    [Fact]
    public void Shape_subgraph_is_folded_to_an_int64_constant_on_the_cpu()
    {
        // x.reshape(x.shape[0], -1) the way exporters write it.
        var graph = Load(Model(13, Net([Input("x", "N", 3L, 4L, 5L)], ["y"],
            [
                Node("Shape", ["x"], ["s"]),
                Node("Gather", ["s", "zero"], ["n"], Attr("axis", 0L)),
                Node("Unsqueeze", ["n", "axes"], ["n1"]),
                Node("Concat", ["n1", "minus1"], ["shape"], Attr("axis", 0L)),
                Node("Cast", ["shape"], ["shape64"], Attr("to", 7L)),
                Node("Reshape", ["x", "shape64"], ["y"]),
            ],
            [Ints("zero", [], [0]), Ints("axes", [1], [0]), Ints("minus1", [1], [-1])])), new OnnxImportOptions { BatchSize = 2 });
        var reshape = Assert.Single(graph.Nodes);
        Assert.Equal("Reshape", reshape.OpType);
        Assert.Equal([2L, -1L], graph.Initializers[reshape.Inputs[1]].Ints!);
        Assert.Equal([2, 3, 4, 5], graph.Inputs.Single().Shape.Dimensions.ToArray());
        using var session = Device.Compile(graph);
        Assert.Equal([2, 60], session.OutputShape.Dimensions.ToArray());
    }

    /// <summary>Shape arithmetic folded at import, each op against values worked out by hand.</summary>
    [Fact]
    public void Cpu_folding_of_shape_ops_matches_hand_computed_values()
    {
        long[] Fold(NodeProto node, params TensorProto[] initializers)
        {
            var graph = Load(Model(13, Net([Input("x", 1L)], [node.Output[0]], [node], initializers)));
            Assert.Empty(graph.Nodes);
            return graph.Initializers[node.Output[0]].AsInts();
        }
        var t = Ints("t", [2, 3], [1, 2, 3, 4, 5, 6]);
        Assert.Equal([6L, 5L, 4L, 3L, 2L, 1L], Fold(Node("Slice", ["t", "s", "e", "a", "st"], ["y"]), t,
            Ints("s", [2], [-1, 100]), Ints("e", [2], [-100, -100]), Ints("a", [2], [0, 1]), Ints("st", [2], [-1, -1])));
        Assert.Equal([1L, 4L, 2L, 5L, 3L, 6L], Fold(Node("Transpose", ["t"], ["y"]), t));
        Assert.Equal([1L, 2L, 3L, 1L, 2L, 3L, 4L, 5L, 6L, 4L, 5L, 6L], Fold(Node("Tile", ["t", "r"], ["y"]), t, Ints("r", [2], [1, 2])));
        Assert.Equal([5L, 7L, 9L], Fold(Node("ReduceSum", ["t", "ax"], ["y"], Attr("keepdims", 0L)), t, Ints("ax", [1], [0])));
        Assert.Equal([6L, 120L], Fold(Node("ReduceProd", ["t"], ["y"], Attr("axes", 1L), Attr("keepdims", 0L)), t));
        Assert.Equal([10L, 7L, 4L, 1L],
            Fold(Node("Range", ["r0", "r1", "r2"], ["y"]), Ints("r0", [], [10]), Ints("r1", [], [0]), Ints("r2", [], [-3])));
        Assert.Equal([7L, 7L, 7L, 7L, 7L, 7L],
            Fold(Node("ConstantOfShape", ["t_shape"], ["y"], Attr("value", Ints("", [1], [7]))), Ints("t_shape", [2], [2, 3])));
        Assert.Equal([1L, 2L, 3L, 1L, 2L, 3L],
            Fold(Node("Expand", ["row", "to"], ["y"]), Ints("row", [3], [1, 2, 3]), Ints("to", [2], [2, 1])));
        Assert.Equal([0L, 2L, 0L, 0L, 5L, 0L],
            Fold(Node("Where", ["m", "t", "z"], ["y"]), t, Ints("m", [3], [0, 1, 0]), Ints("z", [], [0])));
        Assert.Equal([-1L, 1L, -2L, 2L], Fold(Node("Div", ["p", "q"], ["y"]), Ints("p", [4], [-3, 3, -7, 7]), Ints("q", [], [3])));
        Assert.Equal([1L, 2L, 2L], Fold(Node("Mod", ["p", "q"], ["y"]), Ints("p", [3], [-5, 5, -1]), Ints("q", [], [3])));
        Assert.Equal([3L, 1L, 4L],
            Fold(Node("Gather", ["t", "i"], ["y"], Attr("axis", 1L)), Ints("t", [1, 4], [3, 1, 4, 1]), Ints("i", [3], [0, -1, 2])));
        Assert.Equal([1L, 0L, 1L], Fold(Node("Equal", ["p", "q"], ["y"]), Ints("p", [3], [2, 3, 2]), Ints("q", [], [2])));
    }

    [Fact]
    public void Float_arithmetic_on_constants_is_folded_by_the_runtime_operators_and_shape_arithmetic_at_import()
    {
        // w = w0 * 2 is float data: left to the runtime's FoldConstants (the Mul operator on the GPU). The Reshape target
        // comes from Shape -> Gather -> Concat (int64) and the Upsample scales from Div(Cast(sizes), Cast(Shape)), shape
        // arithmetic through float: both fold here, because shape inference needs them at import.
        var graph = Load(Model(9, Net([Input("x", 1L, 1L, 2L, 3L)], ["y"],
            [
                Node("Constant", [], ["w0"], Attr("value", Floats("", [2, 1, 1, 1], [1f, -0.5f]))),
                Node("Constant", [], ["two"], Attr("value", Floats("", [], [2f]))),
                Node("Mul", ["w0", "two"], ["w"]),
                Node("Conv", ["x", "w"], ["c"], Attr("kernel_shape", 1L, 1L)),
                Node("Shape", ["c"], ["s"]),
                Node("Cast", ["s"], ["sf"], Attr("to", 1L)),
                Node("Constant", [], ["sizes"], Attr("value", Ints("", [4], [1, 2, 4, 3]))),
                Node("Cast", ["sizes"], ["sizesf"], Attr("to", 1L)),
                Node("Div", ["sizesf", "sf"], ["scales"]),
                Node("Upsample", ["c", "scales"], ["u"]),
                Node("Shape", ["u"], ["us"]),
                Node("Constant", [], ["first"], Attr("value", Ints("", [1], [0]))),
                Node("Gather", ["us", "first"], ["n"], Attr("axis", 0L)),
                Node("Constant", [], ["rest"], Attr("value", Ints("", [1], [-1]))),
                Node("Concat", ["n", "rest"], ["target"], Attr("axis", 0L)),
                Node("Reshape", ["u", "target"], ["y"]),
            ])));
        Assert.Equal(["Mul", "Conv", "Upsample", "Reshape"], graph.Nodes.Select(n => n.OpType));
        Assert.Equal([1f, 1f, 2f, 1f], graph.Initializers["scales"].Floats!);
        Assert.Equal([1L, -1L], graph.Initializers["target"].AsInts());
        using var session = Device.Compile(graph);
        Assert.Equal(1, session.Passes.ConstantsFolded);
        Assert.DoesNotContain(session.Graph.Nodes, n => n.OpType == "Mul");
        var x = Reference.Random(6, 10);
        var expected = new float[24];
        for (int ch = 0; ch < 2; ch++)
            for (int r = 0; r < 4; r++)
                for (int col = 0; col < 3; col++)
                    expected[(ch * 4 + r) * 3 + col] = x[(r / 2) * 3 + col] * (ch == 0 ? 2f : -1f);
        Tolerance.AssertClose(expected, session.Run(x), Tolerance.Op);
    }

    [Theory]
    [MemberData(nameof(OnnxFixtures.Names), MemberType = typeof(OnnxFixtures))]
    public void Header_reader_skips_the_weights_and_reads_everything_else_as_the_full_parse_does(string name)
    {
        byte[] bytes = File.ReadAllBytes(OnnxFixtures.Get(name).ModelPath);
        var full = ModelProto.Parser.ParseFrom(bytes);
        var header = OnnxHeaderReader.Read(bytes);
        Assert.Equal(full.IrVersion, header.IrVersion);
        Assert.Equal(full.ProducerName, header.ProducerName);
        Assert.Equal(full.OpsetImport, header.OpsetImport);
        Assert.Equal(full.Graph.Name, header.Graph.Name);
        Assert.Equal(full.Graph.Node, header.Graph.Node);
        Assert.Equal(full.Graph.Input, header.Graph.Input);
        Assert.Equal(full.Graph.Output, header.Graph.Output);
        Assert.Equal(full.Graph.Initializer.Select(t => (t.Name, t.DataType, string.Join(",", t.Dims))),
            header.Graph.Initializer.Select(t => (t.Name, t.DataType, string.Join(",", t.Dims))));
        Assert.All(header.Graph.Initializer, t => Assert.True(t.RawData.IsEmpty && t.FloatData.Count == 0, t.Name));
        Assert.Contains(full.Graph.Initializer, t => !t.RawData.IsEmpty || t.FloatData.Count > 0);
    }

    [Fact]
    public void Float_constants_an_operator_needs_at_import_come_from_arithmetic_left_to_the_runtime()
    {
        // Resize's scales = Add(Mul(half, two), zero): float data, so the runtime folds it (FoldConstants); import still
        // infers Resize's output shape from the values the CPU computed for it.
        var graph = Load(Model(13, Net([Input("x", 1L, 2L, 2L, 3L)], ["y"],
            [
                Node("Constant", [], ["half"], Attr("value", Floats("", [4], [0.5f, 0.5f, 1f, 1.5f]))),
                Node("Constant", [], ["two"], Attr("value", Floats("", [1], [2f]))),
                Node("Constant", [], ["zero"], Attr("value", Floats("", [4], [0f, 0f, 0f, 0f]))),
                Node("Mul", ["half", "two"], ["m"]),
                Node("Add", ["m", "zero"], ["scales"]),
                Node("Resize", ["x", "", "scales"], ["y"], Attr("mode", "nearest")),
            ])));
        Assert.Equal(["Mul", "Add", "Resize"], graph.Nodes.Select(n => n.OpType));
        Assert.DoesNotContain("scales", graph.Initializers.Keys);
        using var session = Device.Compile(graph);
        Assert.Equal(2, session.Passes.ConstantsFolded);
        Assert.Equal(new TensorShape(1, 2, 4, 9), session.OutputShape);
        var x = Reference.Random(12, 5);
        var expected = new float[72];
        for (int c = 0; c < 2; c++)
            for (int r = 0; r < 4; r++)
                for (int col = 0; col < 9; col++)
                    expected[(c * 4 + r) * 9 + col] = x[(c * 2 + r / 2) * 3 + col / 3]; // nearest: here floor(i / scale)
        Tolerance.AssertClose(expected, session.Run(x), Tolerance.Op);
    }

    [Fact]
    public void Constant_nodes_become_initializers_and_weights_through_identity_work()
    {
        var w = Floats("", [2, 1, 1, 1], [2f, -1f]);
        var graph = Load(Model(13, Net([Input("x", 1L, 1L, 2L, 3L)], ["y"],
            [
                Node("Constant", [], ["w0"], Attr("value", w)),
                Node("Identity", ["w0"], ["w"]),
                Node("Constant", [], ["bias"], Attr("value_floats", 0.5f, 0.25f)),
                Node("Conv", ["x", "w", "bias"], ["c"], Attr("kernel_shape", 1L, 1L)),
                Node("Constant", [], ["k"], Attr("value_float", 3f)),
                Node("Mul", ["c", "k"], ["y"]),
            ])));
        Assert.DoesNotContain(graph.Nodes, n => n.OpType is "Constant" or "Identity");
        Assert.Equal([3f], graph.Initializers["k"].Floats!);
        var x = Reference.Random(6, 9);
        var expected = new float[12];
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 6; i++) expected[c * 6 + i] = (x[i] * (c == 0 ? 2 : -1) + (c == 0 ? 0.5f : 0.25f)) * 3;
        Tolerance.AssertClose(expected, Run(graph, x), Tolerance.Op);
    }

    [Fact]
    public void Initializers_listed_as_inputs_are_not_inputs()
    {
        var model = SmallCnn();
        model.IrVersion = 3;
        foreach (var t in model.Graph.Initializer.ToList()) model.Graph.Input.Add(new ValueInfoProto { Name = t.Name });
        var graph = Load(model);
        Assert.Equal(["x"], graph.Inputs.Select(i => i.Name));
        Assert.Equal(4, graph.Initializers.Count);
    }

    [Fact]
    public void Symbolic_dims_take_options_or_default_to_one_with_a_note()
    {
        var notes = new List<string>();
        Assert.Equal([1, 3, 6, 5], Load(SmallCnn(), new OnnxImportOptions { Log = notes.Add }).Inputs[0].Shape.Dimensions.ToArray());
        Assert.Contains(notes, n => n.Contains("'N'") && n.Contains("set to 1"));
        Assert.Equal(4, Load(SmallCnn(), new OnnxImportOptions { BatchSize = 4 }).Inputs[0].Shape[0]);
        Assert.Equal(3,
            Load(SmallCnn(), new OnnxImportOptions { DimParams = new Dictionary<string, int> { ["N"] = 3 } }).Inputs[0].Shape[0]);
        Assert.Equal([2, 3, 6, 5],
            Load(SmallCnn(),
                new OnnxImportOptions
                {
                    InputShapes = new Dictionary<string,
                    int[]>
                    { ["x"] = [2, 3, 6, 5] }
                }).Inputs[0].Shape.Dimensions.ToArray());
        var e = Assert.Throws<OnnxImportException>(() => Load(SmallCnn(), new OnnxImportOptions { DefaultUnknownDimsToOne = false }));
        Assert.Contains("symbolic dimension 0 (N)", e.Message);
    }

    [Fact]
    public void Imported_small_cnn_runs_and_matches_its_reference()
    {
        var model = SmallCnn();
        var graph = Load(model, new OnnxImportOptions { BatchSize = 2 });
        var x = Reference.Random(2 * 90, 11);
        float[] W(string n) =>
            new TensorReader("t", null, new OnnxImportOptions()).Read(model.Graph.Initializer.Single(t => t.Name == n)).Floats!;
        float[] w = W("w"), b = W("b"), fc = W("fc"), fb = W("fb");
        var expected = new float[10];
        for (int n = 0; n < 2; n++)
        {
            var f = new double[120];
            for (int o = 0; o < 4; o++)
                for (int yy = 0; yy < 6; yy++)
                    for (int xx = 0; xx < 5; xx++)
                    {
                        double s = b[o];
                        for (int c = 0; c < 3; c++)
                            for (int ky = 0; ky < 3; ky++)
                                for (int kx = 0; kx < 3; kx++)
                                {
                                    int iy = yy + ky - 1, ix = xx + kx - 1;
                                    if (iy >= 0 && iy < 6 && ix >= 0
                                        && ix < 5) s += w[((o * 3 + c) * 3 + ky) * 3 + kx] * x[((n * 3 + c) * 6 + iy) * 5 + ix];
                                }
                        f[(o * 6 + yy) * 5 + xx] = Math.Max(0, s);
                    }
            var g = Enumerable.Range(0, 5).Select(k => fb[k] + Enumerable.Range(0, 120).Sum(i => fc[k * 120 + i] * f[i])).ToArray();
            double max = g.Max(), sum = g.Sum(v => Math.Exp(v - max));
            for (int k = 0; k < 5; k++) expected[n * 5 + k] = (float)(Math.Exp(g[k] - max) / sum);
        }
        Tolerance.AssertClose(expected, Run(graph, x), Tolerance.Network);
    }

    [Fact]
    public void Initializer_encodings_float16_double_int32_bool_and_typed_fields()
    {
        var half = new TensorProto
        {
            Name = "h",
            DataType = 10,
            RawData = ByteString.CopyFrom([.. BitConverter.GetBytes((Half)1.5f), .. BitConverter.GetBytes((Half)(-2f))])
        };
        half.Dims.Add(2);
        var half32 = new TensorProto { Name = "h32", DataType = 10 };
        half32.Dims.Add(1);
        half32.Int32Data.Add(BitConverter.HalfToInt16Bits((Half)0.25f));
        var dbl = new TensorProto { Name = "d", DataType = 11 };
        dbl.Dims.Add(2);
        dbl.DoubleData.AddRange([0.5, 1e-3]);
        var i32 = new TensorProto
        {
            Name = "i",
            DataType = 6,
            RawData = ByteString.CopyFrom([.. BitConverter.GetBytes(-7), .. BitConverter.GetBytes(9)])
        };
        i32.Dims.Add(2);
        var b = new TensorProto { Name = "b", DataType = 9 };
        b.Dims.Add(3);
        b.Int32Data.AddRange([1, 0, 1]);
        var u8 = new TensorProto { Name = "u", DataType = 2, RawData = ByteString.CopyFrom(200, 3) };
        u8.Dims.Add(2);
        var reader = new TensorReader("test", null, new OnnxImportOptions());
        Assert.Equal([1.5f, -2f], reader.Read(half).Floats!);
        Assert.Equal([0.25f], reader.Read(half32).Floats!);
        Assert.Equal([0.5f, 1e-3f], reader.Read(dbl).Floats!);
        Assert.Equal([-7L, 9L], reader.Read(i32).Ints!);
        Assert.Equal([1L, 0L, 1L], reader.Read(b).Ints!);
        Assert.Equal([200L, 3L], reader.Read(u8).Ints!);
    }

    [Fact]
    public void External_data_is_read_from_the_models_folder()
    {
        string folder = TempFolder();
        var w = new float[] { 1, 2, 3, 4, 5, 6 };
        File.WriteAllBytes(Path.Combine(folder, "weights.bin"), [0, 0, 0, 0, .. w.SelectMany(BitConverter.GetBytes)]);
        var path = Save(Model(13,
            Net([Input("x", 2L, 3L)], ["y"], [Node("Add", ["x", "w"], ["y"])], [External("w", [2, 3], "weights.bin", 4, 24)])), folder);
        var graph = OnnxImporter.Load(path);
        Assert.Equal(w, graph.Initializers["w"].Floats);
        var x = Reference.Random(6, 2);
        Tolerance.AssertClose(x.Select((v, i) => v + w[i]).ToArray(), Run(graph, x), Tolerance.Op);
        // From a stream, external data needs the folder.
        var e = Assert.Throws<OnnxImportException>(() => OnnxImporter.Load(File.OpenRead(path)));
        Assert.Contains("needs the model's folder", e.Message);
        Assert.Equal(6, OnnxImporter.Load(File.OpenRead(path), folder).Initializers["w"].Shape.ElementCount);
    }

    internal static TensorProto External(string name, long[] dims, string location, long offset = 0, long length = -1)
    {
        var t = new TensorProto { Name = name, DataType = 1, DataLocation = TensorProto.Types.DataLocation.External };
        t.Dims.AddRange(dims);
        t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString() });
        if (length >= 0) t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString() });
        return t;
    }

    [Fact]
    public void Every_unsupported_node_is_listed_in_one_exception_before_gpu_work()
    {
        var model = Model(13, Net([Input("x", 1L, 4L)], ["y"],
            [
                Node("Relu", ["x"], ["a"]),
                Node("Einsum", ["a"], ["b"]),
                Node("NonZero", ["b"], ["c"]),
                new NodeProto { OpType = "Fancy", Domain = "com.example", Name = "custom", Input = { "c" }, Output = { "d" } },
                Node("Floor", ["d"], ["y"]),
            ]));
        var e = Assert.Throws<UnsupportedOperatorException>(() => Load(model));
        Assert.Equal(4, e.Problems.Count);
        Assert.Contains(e.Problems, p => p.Contains("Einsum (node 'einsum_b', opset 13) is not implemented"));
        Assert.Contains(e.Problems, p => p.Contains("NonZero"));
        Assert.Contains(e.Problems, p => p.Contains("com.example.Fancy") && p.Contains("'custom'"));
        Assert.Contains(e.Problems, p => p.Contains("Floor") && p.Contains("depends on runtime data"));
    }

    [Fact]
    public void Legacy_forms_are_rewritten_and_gemm_broadcast_is_checked()
    {
        // Opset 4 Reshape with a shape attribute, opset 5 Cast with a type name, opset 6 BatchNormalization with is_test/spatial.
        var bn = new[] { Floats("s", [2], [1, 2]), Floats("bb", [2], [0, 1]), Floats("m", [2], [0, 0]), Floats("v", [2], [1, 1]) };
        var graph = Load(Model(5, Net([Input("x", 1L, 2L, 2L, 2L)], ["y"],
            [
                Node("BatchNormalization", ["x", "s", "bb", "m", "v"], ["n", "mean", "var"], Attr("is_test", 1L), Attr("spatial", 1L),
                    Attr("consumed_inputs", 0L, 0L, 0L, 1L, 1L)),
                Node("Reshape", ["n"], ["r"], Attr("shape", 1L, 8L)),
                Node("Cast", ["r"], ["y"], Attr("to", "FLOAT")),
            ], bn)));
        Assert.Equal(["n"], graph.Nodes[0].Outputs);
        Assert.False(graph.Nodes[0].Attributes.Has("is_test") || graph.Nodes[0].Attributes.Has("spatial")
            || graph.Nodes[0].Attributes.Has("consumed_inputs"));
        Assert.Equal([1L, 8L], graph.Initializers[graph.Nodes[1].Inputs[1]].Ints!);
        Assert.Equal(1, graph.Nodes[2].Attributes.Int("to", 0));
        var x = Reference.Random(8, 1);
        Tolerance.AssertClose(x.Select((v, i) => i < 4 ? v / MathF.Sqrt(1 + 1e-5f) : 2 * v / MathF.Sqrt(1 + 1e-5f) + 1).ToArray(),
            Run(graph, x), Tolerance.Op);

        // Opset 6 Gemm: broadcast=1 broadcasts C; the default broadcast=0 wants C at the full [M, N].
        var a = Reference.Random(6, 2);
        var b = Reference.Random(6, 3);
        ModelProto Gemm(long? broadcast) => Model(6, Net([Input("a", 2L, 3L)], ["y"],
            [broadcast is { } v ? Node("Gemm", ["a", "b", "c"], ["y"], Attr("broadcast", v)) : Node("Gemm", ["a", "b", "c"], ["y"])],
            [Floats("b", [3, 2], b), Floats("c", [2], [10, 20])]));
        var gemm = Load(Gemm(1));
        Assert.Equal(1, gemm.Nodes.Single().Attributes.Int("broadcast", -1));
        var expected = new float[4];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                expected[i * 2 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[2 + j] + a[i * 3 + 2] * b[4 + j] + (j == 0 ? 10 : 20);
        Tolerance.AssertClose(expected, Run(gemm, a), Tolerance.Op);
        var e = Assert.Throws<OnnxImportException>(() => Load(Gemm(null)));
        Assert.Contains("broadcast=0", e.Message);
        Assert.Contains("[2]", e.Message);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    public void An_empty_axes_initializer_reduces_everything_or_nothing(long noop)
    {
        // Opset 13 ReduceSum with axes given as an empty int64 tensor: every axis, or the identity with noop_with_empty_axes.
        var graph = Load(Model(13, Net([Input("x", 2L, 3L)], ["y"],
            [Node("ReduceSum", ["x", "axes"], ["y"], Attr("keepdims", 1L), Attr("noop_with_empty_axes", noop))], [Ints("axes", [0], [])])));
        Assert.Equal("", graph.Nodes.Single().Inputs.ElementAtOrDefault(1) ?? "");
        var x = Reference.Random(6, 4);
        var expected = noop == 1 ? x : [(float)x.Select(v => (double)v).Sum()];
        Tolerance.AssertClose(expected, Run(graph, x), Tolerance.Op);
    }

    [Fact]
    public void Dropout_with_a_true_training_mode_keeps_its_ratio_and_mode_and_drops()
    {
        var graph = Load(Model(13, Net([Input("x", 4L, 50L)], ["y", "mask"],
            [Node("Dropout", ["x", "ratio", "training"], ["y", "mask"], Attr("seed", 7L))],
            [Floats("ratio", [], [0.4f]), new global::Onnx.TensorProto { Name = "training", DataType = 9, Int32Data = { 1 } }])));
        var node = graph.Nodes.Single();
        Assert.Equal(["x", "ratio", "training"], node.Inputs);
        Assert.Equal(["y", "mask"], node.Outputs);
        var x = Reference.Random(200, 5, 0.5f, 1.5f);
        using var session = Device.Compile(graph);
        var results = session.Run(new Dictionary<string, HostTensor> { ["x"] = HostTensor.FromFloats([4, 50], x) });
        var y = results["y"].Floats!;
        var mask = results["mask"].Floats!;
        for (int i = 0; i < x.Length; i++) Assert.Equal(mask[i] == 1 ? x[i] / 0.6f : 0f, y[i], 1e-5f);
        Assert.InRange(mask.Count(m => m == 0), 80 - 5 * Math.Sqrt(48), 80 + 5 * Math.Sqrt(48));
    }

    [Fact]
    public void Dropout_mask_is_all_true_and_empty_optional_inputs_are_kept()
    {
        var graph = Load(Model(13, Net([Input("x", 2L, 3L)], ["y", "mask"],
            [
                Node("Dropout", ["x", "ratio"], ["d", "mask"]),
                Node("Clip", ["d", "", "hi"], ["y"]),
            ], [Floats("ratio", [], [0.5f]), Floats("hi", [], [0.25f])])));
        Assert.Equal([1L, 1L, 1L, 1L, 1L, 1L], graph.Initializers["mask"].Ints!);
        var clip = graph.Nodes.Single(n => n.OpType == "Clip");
        Assert.Equal(["d", "", "hi"], clip.Inputs);
        var x = Reference.Random(6, 3);
        var computed = graph.Clone();
        computed.Outputs.Remove("mask");
        Tolerance.AssertClose(x.Select(v => Math.Min(v, 0.25f)).ToArray(), Run(computed, x), Tolerance.Op);
    }

    [Fact]
    public void Inspect_reports_interface_opsets_histogram_and_parameters()
    {
        var model = SmallCnn();
        model.Graph.Node.Add(Node("Einsum", ["y"], ["z"]));
        string path = Save(model);
        var info = OnnxImporter.Inspect(path);
        Assert.Equal("vkcnn-tests 1", info.Producer);
        Assert.Equal(11, info.OpsetImports[""]);
        Assert.Equal("x: FLOAT [N, 3, 6, 5]", info.Inputs.Single().ToString());
        Assert.Equal(108 + 4 + 600 + 5, info.ParameterCount);
        Assert.Equal(1, info.OpHistogram["Conv"]);
        Assert.Equal(["Einsum"], info.UnsupportedOps);
        string text = info.ToString();
        Assert.Contains("params    717 in 4 initializers", text);
        Assert.Contains("(not supported)", text);
    }

    [Fact]
    public void Align_corners_resize_with_scales_divides_by_the_output_length_or_by_length_times_scale_when_asked()
    {
        // onnx/onnx#2462's example: a 2x4 image scaled by 0.6 is 1x2; the second output pixel maps to x = 1·3/(2−1) = 3
        // (ONNX Runtime, PyTorch) or to x = 1·3/(4·0.6−1) = 2.142857 (the ONNX reference).
        var model = Model(13, Net([Input("x", 1L, 1L, 2L, 4L)], ["y"],
            [Node("Resize", ["x", "", "scales"], ["y"], Attr("mode", "linear"), Attr("coordinate_transformation_mode", "align_corners"))],
            [Floats("scales", [4], [1, 1, 0.6f, 0.6f])]));
        float[] x = [1, 2, 3, 4, 5, 6, 7, 8];
        using (var session = Device.Compile(Load(model)))
            Tolerance.AssertClose([1f, 4f], session.Run(x), Tolerance.Op);
        using (var session = Device.Compile(Load(model, new OnnxImportOptions { AlignCornersLength = AlignCornersLength.ScaledLength })))
            Tolerance.AssertClose([1f, 1 + 3 / 1.4f], session.Run(x), Tolerance.Op);
    }
}

