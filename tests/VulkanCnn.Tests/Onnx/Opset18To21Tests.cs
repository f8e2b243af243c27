using Onnx;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Onnx;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Onnx.OnnxModels;

namespace VulkanCnn.Tests.Onnx;

/// <summary>
/// Operator forms introduced in opsets 18–21 (the conformance data stops at 17), each as a small
/// model built here: imported and run on the GPU, and run by ONNX Runtime on the same random input.
/// </summary>
public sealed class Opset18To21Tests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>The IR version each opset came with.</summary>
    private static long IrVersionOf(long opset) => opset switch { <= 18 => 8, <= 20 => 9, _ => 10 };

    private static ModelProto Model(long opset, int[] xShape, string[] outputs, NodeProto[] nodes, params TensorProto[] initializers) =>
        OnnxModels.Model(opset, Net([Input("x", xShape.Select(d => (object)(long)d).ToArray())], outputs, nodes, initializers),
            IrVersionOf(opset));

    /// <summary>Every output of the imported model on the GPU equals ONNX Runtime's within Tolerance.Op; returns the imported
    /// graph.</summary>
    private VulkanCnn.Ir.Graph Compare(ModelProto model, int[] xShape, int seed = 1)
    {
        string path = Save(model);
        var x = Reference.Random(xShape.Aggregate(1, (a, b) => a * b), seed, -2, 2);
        var graph = OnnxImporter.Load(path);
        IReadOnlyDictionary<string, HostTensor> ours;
        using (var session = Device.Compile(graph)) ours = session.Run(new Dictionary<string,
            HostTensor>
        { ["x"] = HostTensor.FromFloats(xShape, x) });
        var theirs = OrtRunner.Run(path, new Dictionary<string, NamedTensor> { ["x"] = new(x, xShape) });
        Assert.Equal(theirs.Keys.Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, expected) in theirs)
        {
            Assert.True(ours[name].Shape.Dimensions.SequenceEqual(expected.Shape),
                $"{name}: ours {ours[name].Shape}, ONNX Runtime {expected}");
            Tolerance.AssertClose(expected.Data, ours[name].Floats!, Tolerance.Op, name);
        }
        return graph;
    }

    [Theory]
    [InlineData("ReduceMean", new long[] { 1 }, 1)]
    [InlineData("ReduceMean", new long[] { -1, 1 }, 0)]
    [InlineData("ReduceMax", new long[] { 2 }, 0)]
    [InlineData("ReduceMax", new long[] { 0, 2, 3 }, 1)]
    [InlineData("ReduceMin", new long[] { -2 }, 1)]
    [InlineData("ReduceMin", new long[] { 1, 3 }, 0)]
    [InlineData("ReduceSumSquare", new long[] { 3 }, 1)]
    [InlineData("ReduceSumSquare", new long[] { -3, 2 }, 0)]
    [InlineData("ReduceL1", new long[] { 1 }, 0)]
    [InlineData("ReduceL2", new long[] { 2, 3 }, 1)]
    [InlineData("ReduceSum", new long[] { 0, 1 }, 1)]
    public void Opset18_reductions_take_axes_as_an_input(string op, long[] axes, long keepdims)
    {
        var model = Model(18, [2, 3, 4, 5], ["y"],
            [Node(op, ["x", "axes"], ["y"], Attr("keepdims", keepdims))], Ints("axes", [axes.Length], axes));
        var graph = Compare(model, [2, 3, 4, 5]);
        Assert.Contains(graph.Nodes, n => n.OpType is "ReduceMean" or "ReduceMax" or "ReduceMin" or "ReduceSum");
    }

    [Theory]
    [InlineData("ReduceMean", 1)] // no axes, noop: the input passes through
    [InlineData("ReduceMax", 0)]  // no axes: every axis
    [InlineData("ReduceSumSquare", 0)]
    [InlineData("ReduceSumSquare", 1)] // ONNX Runtime: x² unreduced
    [InlineData("ReduceL1", 1)]        // |x|
    [InlineData("ReduceL2", 1)]        // √(x²)
    public void Opset18_reductions_without_axes_follow_noop_with_empty_axes(string op, long noop)
    {
        // An empty axes tensor is the same as none.
        var model = Model(18, [2, 3, 5], ["y"],
            [Node(op, ["x", "axes"], ["y"], Attr("noop_with_empty_axes", noop))], Ints("axes", [0], []));
        Compare(model, [2, 3, 5]);
    }

    [Theory]
    [InlineData(1, 3, 7)]   // 3, 3, 1
    [InlineData(-1, 2, 6)]  // 3, 3
    [InlineData(2, 4, 10)]  // 3, 3, 3, 1
    public void Opset18_split_with_num_outputs(long axis, int outputs, int length)
    {
        int[] shape = [2, 3, 4];
        shape[axis < 0 ? (int)axis + 3 : (int)axis] = length;
        var names = Enumerable.Range(0, outputs).Select(i => $"y{i}").ToArray();
        var model = Model(18, shape, names, [Node("Split", ["x"], names, Attr("axis", axis), Attr("num_outputs", (long)outputs))]);
        Compare(model, shape);
    }

    [Theory]
    [InlineData(18, "constant")]
    [InlineData(18, "reflect")]
    [InlineData(18, "edge")]
    [InlineData(19, "wrap")]
    public void Opset18_pad_with_an_axes_input(long opset, string mode)
    {
        // Pad only axes 3 and 1 (given as -1 and 1): begin 2 and 1, end 1 and 0 — asymmetric, one-sided.
        var initializers = new List<TensorProto> { Ints("pads", [4], [2, 1, 1, 0]), Ints("axes", [2], [-1, 1]) };
        string[] inputs = ["x", "pads", "", "axes"];
        if (mode == "constant")
        {
            initializers.Add(Floats("value", [], [0.75f]));
            inputs[2] = "value";
        }
        var model = Model(opset, [2, 3, 4, 5], ["y"], [Node("Pad", inputs, ["y"], Attr("mode", mode))], initializers.ToArray());
        Compare(model, [2, 3, 4, 5]);
    }

    [Theory]
    [InlineData("linear", "half_pixel")]
    [InlineData("nearest", "asymmetric")]
    [InlineData("linear", "align_corners")]
    public void Opset18_resize_with_axes_and_antialias_0(string mode, string transform)
    {
        // Scales only for the listed axes (W before H); antialias=0 is the default, given explicitly. Whole-number
        // length·scale on both axes: for align_corners ONNX Runtime divides by the output length − 1, ONNX by length·scale − 1.
        var model = Model(18, [2, 3, 6, 4], ["y"],
            [Node("Resize", ["x", "", "scales"], ["y"], Attr("mode", mode), Attr("antialias", 0L), Attr("axes", 3L, 2L),
                Attr("coordinate_transformation_mode", transform))],
            Floats("scales", [2], [2f, 0.5f]));
        Compare(model, [2, 3, 6, 4]);
    }

    [Theory]
    [InlineData("not_larger", 5L, 12L)]
    [InlineData("not_smaller", 9L, 9L)]
    [InlineData("stretch", 7L, 3L)]
    public void Opset18_resize_with_keep_aspect_ratio_policy(string policy, long h, long w)
    {
        var model = Model(18, [1, 2, 6, 8], ["y"],
            [Node("Resize", ["x", "", "", "sizes"], ["y"], Attr("mode", "linear"), Attr("axes", 2L, 3L),
                Attr("keep_aspect_ratio_policy", policy))],
            Ints("sizes", [2], [h, w]));
        Compare(model, [1, 2, 6, 8]);
    }

    [Fact]
    public void Opset19_resize_half_pixel_symmetric()
    {
        var model = Model(19, [2, 2, 6, 5], ["y"],
            [Node("Resize", ["x", "", "scales"], ["y"], Attr("mode", "linear"),
                Attr("coordinate_transformation_mode", "half_pixel_symmetric"))],
            Floats("scales", [4], [1, 1, 0.5f, 1.6f]));
        Compare(model, [2, 2, 6, 5]);
    }

    [Fact]
    public void Opset19_average_pool_with_dilations()
    {
        var model = Model(19, [2, 3, 7, 6], ["y"],
            [Node("AveragePool", ["x"], ["y"], Attr("kernel_shape", 2L, 3L), Attr("dilations", 2L, 1L), Attr("strides", 1L, 2L),
                Attr("pads", 1L, 0L, 0L, 1L))]);
        Compare(model, [2, 3, 7, 6]);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("tanh")]
    public void Opset20_gelu(string approximate)
    {
        var model = Model(20, [2, 3, 7], ["y"], [Node("Gelu", ["x"], ["y"], Attr("approximate", approximate))]);
        var graph = Compare(model, [2, 3, 7]);
        Assert.Equal("Gelu", Assert.Single(graph.Nodes).OpType);
    }

    [Theory]
    [InlineData(19)]
    [InlineData(21)]
    public void Cast_of_opsets_19_and_21_and_saturate_ignored_for_non_float8_targets(long opset)
    {
        // float → int32 (truncates toward zero) → float, and float → float.
        NodeProto[] Nodes(bool saturate) =>
        [
            Node("Cast", ["x"], ["i"], saturate ? [Attr("to", 6L), Attr("saturate", 1L)] : [Attr("to", 6L)]),
            Node("Cast", ["i"], ["y"], saturate ? [Attr("to", 1L), Attr("saturate", 0L)] : [Attr("to", 1L)]),
            Node("Cast", ["x"], ["z"], saturate ? [Attr("to", 1L), Attr("saturate", 1L)] : [Attr("to", 1L)]),
        ];
        Compare(Model(opset, [3, 5], ["y", "z"], Nodes(saturate: false)), [3, 5]);

        // ONNX Runtime refuses saturate on casts to other types than float8; the importer ignores it (the spec: "only used for float 8").
        var x = Reference.Random(15, 1, -2, 2);
        var expected = OrtRunner.Run(Save(Model(opset, [3, 5], ["y", "z"], Nodes(saturate: false))), new Dictionary<string,
            NamedTensor>
        { ["x"] = new(x, [3, 5]) });
        using var session = Device.Compile(OnnxImporter.Load(Save(Model(opset, [3, 5], ["y", "z"], Nodes(saturate: true)))));
        var ours = session.Run(new Dictionary<string, HostTensor> { ["x"] = HostTensor.FromFloats([3, 5], x) });
        Tolerance.AssertClose(expected["y"].Data, ours["y"].Floats!, Tolerance.Op, "y");
        Tolerance.AssertClose(expected["z"].Data, ours["z"].Floats!, Tolerance.Op, "z");
    }

    [Theory]
    [InlineData(19)]
    [InlineData(21)]
    public void Identity_reshape_and_the_views_of_opsets_19_and_21(long opset)
    {
        var model = Model(opset, [2, 3, 4, 5], ["y", "r"],
        [
            Node("Reshape", ["x", "shape"], ["r"], Attr("allowzero", 0L)),   // [2, 12, 5]
            Node("Identity", ["r"], ["i"]),
            Node("Transpose", ["i"], ["t"], Attr("perm", 0L, 2L, 1L)),       // [2, 5, 12]
            Node("Unsqueeze", ["t", "axes"], ["u"]),                         // [2, 1, 5, 12]
            Node("Squeeze", ["u", "axes"], ["s"]),
            Node("Flatten", ["s"], ["y"], Attr("axis", 2L)),                 // [10, 12]
        ],
        Ints("shape", [3], [0, 12, -1]), Ints("axes", [1], [1]));
        Compare(model, [2, 3, 4, 5]);
    }

    [Theory]
    [InlineData(19)]
    [InlineData(21)]
    public void Shape_with_start_folds_at_opsets_19_and_21(long opset)
    {
        // x.reshape(-1, *x.shape[-2:]) as an exporter writes it: folded to a constant at import.
        var model = Model(opset, [2, 3, 4, 5], ["y"],
        [
            Node("Shape", ["x"], ["s"], Attr("start", -2L)),
            Node("Concat", ["minus_one", "s"], ["shape"], Attr("axis", 0L)),
            Node("Reshape", ["x", "shape"], ["y"]),
        ],
        Ints("minus_one", [1], [-1]));
        var graph = Compare(model, [2, 3, 4, 5]);
        Assert.Equal([-1, 4, 5], graph.Initializers[graph.Nodes.Single().Inputs[1]].AsInts());
    }
}
