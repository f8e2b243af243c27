using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Onnx;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Onnx.OnnxModels;
using IrGraph = VulkanCnn.Ir.Graph;

namespace VulkanCnn.Tests.Graph;

/// <summary>
/// Zero-element tensors (a 0 dimension) through a session: they get no buffer and no kernel, keep
/// their shapes, and a node that would have to read one to produce real values handles it (Concat)
/// or says which node and input.
/// </summary>
public sealed class EmptyTensorTests(GpuFixture gpu) : GpuTest(gpu)
{
    private static Dictionary<string, HostTensor> Feed(params (string Name, TensorShape Shape, float[] Data)[] inputs) =>
        inputs.ToDictionary(i => i.Name, i => HostTensor.FromFloats(i.Shape, i.Data));

    [Fact]
    public void Reshape_with_allowzero_takes_an_empty_input_and_returns_an_empty_output()
    {
        var g = new IrGraph { Name = "reshape-empty" };
        g.Inputs.Add(new ValueInfo("x", [0, 3, 4]));
        g.Initializers["shape"] = HostTensor.FromInts([3], [3, 4, 0]);
        g.Nodes.Add(new Node("Reshape", "r", ["x", "shape"], ["y"], new Attributes().Set("allowzero", 1)));
        g.Outputs.Add("y");
        using var session = Device.Compile(g);
        Assert.Equal(new TensorShape(0, 3, 4), session.InputShape);
        Assert.Equal(new TensorShape(3, 4, 0), session.OutputShape);
        Assert.Null(session.DefaultPlan.Inputs[0]);          // no buffer for either end
        Assert.Null(session.DefaultPlan.Outputs[0]);
        Assert.Empty(session.DefaultPlan.Steps);             // the Reshape resolved to an empty constant
        Assert.Equal(1, session.Passes.EmptyNodesRemoved);
        Assert.Equal(0UL, session.Memory.PeakIntermediateBytes);

        var result = session.Run(Feed(("x", [0, 3, 4], [])));
        Assert.Equal(new TensorShape(3, 4, 0), result["y"].Shape);
        Assert.Empty(result["y"].Floats!);
        Assert.Empty(session.Run(ReadOnlySpan<float>.Empty));
        var wrong = Assert.Throws<ArgumentException>(() => session.Run(new float[3]));
        Assert.Contains("takes 0 values, got 3", wrong.Message);
    }

    [Fact]
    public void Reshape_without_allowzero_copies_the_zero_dimension()
    {
        var g = new IrGraph { Name = "reshape-copy" };
        g.Inputs.Add(new ValueInfo("x", [2, 0, 3]));
        g.Initializers["shape"] = HostTensor.FromInts([3], [3, 0, 2]); // 0 copies input dim 1
        g.Nodes.Add(new Node("Reshape", "r", ["x", "shape"], ["y"]));
        g.Outputs.Add("y");
        using var session = Device.Compile(g);
        Assert.Equal(new TensorShape(3, 0, 2), session.OutputShape);
    }

    [Fact]
    public void An_out_of_bounds_slice_is_empty_while_the_graph_still_computes_its_other_output()
    {
        var g = new IrGraph { Name = "slice-empty" };
        g.Inputs.Add(new ValueInfo("x", [4, 3, 5]));
        g.Initializers["starts"] = HostTensor.FromInts([1], [1000]);
        g.Initializers["ends"] = HostTensor.FromInts([1], [1000]);
        g.Initializers["axes"] = HostTensor.FromInts([1], [1]);
        g.Nodes.Add(new Node("Slice", "slice", ["x", "starts", "ends", "axes"], ["y"]));
        g.Nodes.Add(new Node("Relu", "relu", ["x"], ["z"]));
        g.Outputs.Add("y");
        g.Outputs.Add("z");
        using var session = Device.Compile(g);
        Assert.Equal(["relu"], session.DefaultPlan.Steps.Select(s => s.Node.Name));
        Assert.Equal(1, session.Passes.EmptyNodesRemoved);

        var x = Reference.Random(60, 7);
        var result = session.Run(Feed(("x", [4, 3, 5], x)));
        Assert.Equal(new TensorShape(4, 0, 5), result["y"].Shape);
        Assert.Empty(result["y"].Floats!);
        Assert.Equal(Reference.Relu(x), result["z"].Floats);
    }

    [Fact]
    public void Split_with_zero_sizes_computes_only_the_non_empty_part()
    {
        var g = new IrGraph { Name = "split-zero" };
        g.Inputs.Add(new ValueInfo("x", [2, 7]));
        g.Initializers["split"] = HostTensor.FromInts([3], [0, 7, 0]);
        g.Nodes.Add(new Node("Split", "split", ["x", "split"], ["a", "b", "c"], new Attributes().Set("axis", 1)));
        g.Outputs.AddRange(["a", "b", "c"]);
        using var session = Device.Compile(g);
        Assert.Equal([new TensorShape(2, 0), new TensorShape(2, 7), new TensorShape(2, 0)], session.Outputs.Select(o => o.Shape));
        Assert.Null(session.DefaultPlan.Outputs[0]);
        Assert.Null(session.DefaultPlan.Outputs[2]);

        var x = Reference.Random(14, 8);
        var result = session.Run(Feed(("x", [2, 7], x)));
        Assert.Empty(result["a"].Floats!);
        Assert.Equal(x, result["b"].Floats);
        Assert.Equal(new TensorShape(2, 0), result["c"].Shape);
    }

    [Fact]
    public void Split_of_an_empty_input_into_zero_sizes()
    {
        var g = new IrGraph { Name = "split-empty" };
        g.Inputs.Add(new ValueInfo("x", [0]));
        g.Initializers["split"] = HostTensor.FromInts([3], [0, 0, 0]);
        g.Nodes.Add(new Node("Split", "split", ["x", "split"], ["a", "b", "c"]));
        g.Outputs.AddRange(["a", "b", "c"]);
        using var session = Device.Compile(g);
        var result = session.Run(Feed(("x", [0], [])));
        Assert.All(["a", "b", "c"], name => Assert.Equal(new TensorShape(0), result[name].Shape));
    }

    [Fact]
    public void ConstantOfShape_with_a_zero_shape_is_an_empty_output_and_an_empty_concat_part()
    {
        // ConstantOfShape([0]) folds at import to an empty constant: as an output and as a Concat part.
        var model = Model(13, Net([Input("x", 3L)], ["e", "y"],
            [Node("ConstantOfShape", ["shape"], ["e"], Attr("value", Floats("v", [1], [5f]))),
             Node("Concat", ["e", "x", "e"], ["y"], Attr("axis", 0L))],
            [Ints("shape", [1], [0])]));
        var graph = OnnxImporter.Load(Save(model));
        Assert.Equal(new TensorShape(0), graph.Initializers["e"].Shape);
        using var session = Device.Compile(graph);
        float[] x = [1, -2, 3];
        var result = session.Run(Feed(("x", [3], x)));
        Assert.Equal(new TensorShape(0), result["e"].Shape);
        Assert.Equal(x, result["y"].Floats);
    }

    [Fact]
    public void Concat_skips_an_empty_input_and_an_empty_intermediate()
    {
        var g = new IrGraph { Name = "concat-empty" };
        g.Inputs.Add(new ValueInfo("x", [2, 3]));
        g.Inputs.Add(new ValueInfo("e", [2, 0]));
        g.Initializers["w"] = HostTensor.FromFloats([2, 2], [10, 20, 30, 40]);
        g.Initializers["starts"] = HostTensor.FromInts([1], [2]);
        g.Initializers["ends"] = HostTensor.FromInts([1], [2]);
        g.Initializers["axes"] = HostTensor.FromInts([1], [1]);
        g.Nodes.Add(new Node("Slice", "cut", ["x", "starts", "ends", "axes"], ["s"]));   // [2, 0]
        g.Nodes.Add(new Node("Concat", "cat", ["e", "x", "s", "w"], ["y"], new Attributes().Set("axis", 1)));
        g.Outputs.Add("y");
        using var session = Device.Compile(g);
        Assert.Equal(new TensorShape(2, 5), session.OutputShape);
        float[] x = [1, 2, 3, 4, 5, 6];
        var y = session.Run(Feed(("x", [2, 3], x), ("e", [2, 0], [])))["y"];
        Assert.Equal([1, 2, 3, 10, 20, 4, 5, 6, 30, 40], y.Floats!);
    }

    [Fact]
    public void A_node_that_would_read_an_empty_input_for_a_real_output_names_itself()
    {
        // ReduceSum over an empty axis is a [2] of zeros in ONNX; the runtime refuses it by name instead of reading nothing.
        var g = new IrGraph { Name = "reduce-empty" };
        g.Inputs.Add(new ValueInfo("x", [2, 0]));
        g.Initializers["axes"] = HostTensor.FromInts([1], [1]);
        g.Nodes.Add(new Node("ReduceSum", "sum", ["x", "axes"], ["y"], new Attributes().Set("keepdims", 0)));
        g.Outputs.Add("y");
        var e = Assert.Throws<GraphException>(() => Device.Compile(g));
        Assert.Equal("sum", e.NodeName);
        Assert.Contains("input 0 ('x') is empty ([2, 0])", e.Message);
        Assert.Contains("non-empty output", e.Message);

        var mm = new IrGraph { Name = "matmul-empty" };
        mm.Inputs.Add(new ValueInfo("a", [2, 0]));
        mm.Inputs.Add(new ValueInfo("b", [0, 3]));
        mm.Nodes.Add(new Node("MatMul", "mm", ["a", "b"], ["y"]));
        mm.Outputs.Add("y");
        var m = Assert.Throws<GraphException>(() => Device.Compile(mm));
        Assert.Equal("mm", m.NodeName);
        Assert.Contains("is empty", m.Message);
    }

    [Fact]
    public void Pointwise_chains_on_an_empty_input_run_nothing()
    {
        var g = new IrGraph { Name = "chain-empty" };
        g.Inputs.Add(new ValueInfo("x", [1, 0, 4]));
        g.Initializers["b"] = HostTensor.FromFloats([4], [1, 2, 3, 4]);
        g.Nodes.Add(new Node("Add", "add", ["x", "b"], ["t"]));
        g.Nodes.Add(new Node("Relu", "relu", ["t"], ["u"]));
        g.Nodes.Add(new Node("Transpose", "tr", ["u"], ["y"], new Attributes().Set("perm", new long[] { 2, 0, 1 })));
        g.Outputs.Add("y");
        using var session = Device.Compile(g);
        Assert.Equal(new TensorShape(4, 1, 0), session.OutputShape);
        Assert.Empty(session.DefaultPlan.Steps);
        Assert.Equal(new TensorShape(4, 1, 0), session.Run(Feed(("x", [1, 0, 4], [])))["y"].Shape);
    }
}
