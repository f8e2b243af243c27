using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;
using StoragePrecision = VulkanCnn.Compiler.Precision;

namespace VulkanCnn.Tests.Graph;

/// <summary>
/// Activations larger than one storage-buffer binding: on a device whose binding limit is lowered to 64 KiB, a batch whose
/// input, intermediates and output each exceed it runs in batch pieces (views at byte offsets of the whole, never bound
/// whole) and matches the double CPU reference; what cannot run in pieces is refused naming the tensor, the node and why.
/// </summary>
public sealed class OversizedActivationTests(GpuFixture gpu) : LimitedBindingTest(gpu, 64 << 10)
{

    /// <summary>x [48, 3, 12, 12] (81 KiB) → Conv 3→20 (540 KiB) → BN → Relu → MaxPool (135 KiB) → Conv 20→20 + residual Add →
    /// Relu → GlobalAveragePool → Flatten → Gemm 20→10, optionally with the first Relu's output as a second graph output.</summary>
    private static Ir.Graph Network(int batch, bool wideOutput)
    {
        var g = new Ir.Graph { Name = "pieces" };
        g.Inputs.Add(new ValueInfo("x", [batch, 3, 12, 12]));
        g.Initializers["w1"] = HostTensor.FromFloats([20, 3, 3, 3], Reference.Random(20 * 27, 1, -0.4f, 0.4f));
        g.Initializers["b1"] = HostTensor.FromFloats([20], Reference.Random(20, 2));
        g.Initializers["scale"] = HostTensor.FromFloats([20], Reference.Random(20, 3, 0.5f, 1.5f));
        g.Initializers["shift"] = HostTensor.FromFloats([20], Reference.Random(20, 4));
        g.Initializers["mean"] = HostTensor.FromFloats([20], Reference.Random(20, 5));
        g.Initializers["var"] = HostTensor.FromFloats([20], Reference.Random(20, 6, 0.5f, 2f));
        g.Initializers["w2"] = HostTensor.FromFloats([20, 20, 3, 3], Reference.Random(20 * 180, 7, -0.1f, 0.1f));
        g.Initializers["fc"] = HostTensor.FromFloats([10, 20], Reference.Random(200, 8));
        var pads = new[] { 1, 1, 1, 1 };
        g.Nodes.Add(new Node("Conv", "conv1", ["x", "w1", "b1"], ["c1"], new Attributes().Set("kernel_shape", new[] { 3, 3 })
            .Set("pads", pads)));
        g.Nodes.Add(new Node("BatchNormalization", "bn", ["c1", "scale", "shift", "mean", "var"], ["n1"]));
        g.Nodes.Add(new Node("Relu", "relu1", ["n1"], ["r1"]));
        g.Nodes.Add(new Node("MaxPool", "pool", ["r1"], ["p1"], new Attributes().Set("kernel_shape", new[] { 2, 2 })
            .Set("strides", new[] { 2, 2 })));
        g.Nodes.Add(new Node("Conv", "conv2", ["p1", "w2"], ["c2"],
            new Attributes().Set("kernel_shape", new[] { 3, 3 }).Set("pads", pads)));
        g.Nodes.Add(new Node("Add", "residual", ["c2", "p1"], ["s"]));
        g.Nodes.Add(new Node("Relu", "relu2", ["s"], ["r2"]));
        g.Nodes.Add(new Node("GlobalAveragePool", "gap", ["r2"], ["gp"]));
        g.Nodes.Add(new Node("Flatten", "flatten", ["gp"], ["f"]));
        g.Nodes.Add(new Node("Gemm", "fc", ["f", "fc"], ["y"], new Attributes().Set("transB", 1)));
        g.Outputs.Add("y");
        if (wideOutput) g.Outputs.Add("r1");
        return g;
    }

    [Theory]
    [InlineData(true, "fp32")]
    [InlineData(false, "fp32")]
    [InlineData(true, "fp16")]
    public void A_batch_past_the_limit_runs_in_pieces_and_matches_the_reference(bool optimize, string precision)
    {
        const int batch = 48;
        var graph = Network(batch, wideOutput: false);
        bool half = precision == "fp16";
        var x = Reference.Random(batch * 3 * 12 * 12, 9);
        if (half) x = Reference.RoundToHalf(x);
        using var session = Small.Compile(graph, [batch, 3, 12, 12],
            new SessionOptions { Optimize = optimize, Precision = half ? StoragePrecision.Fp16 : StoragePrecision.Fp32 });
        // Everything up to the pooled residual block holds more than 64 KiB per batch; each piece fits.
        Assert.True(session.Passes.NodesRunInBatchPieces >= (optimize ? 3 : 7), $"{session.Passes.NodesRunInBatchPieces} nodes in pieces");
        Tolerance.AssertClose(CpuNetwork.Run(graph, x), session.Run(x), half ? Tolerance.Fp16Network : Tolerance.Op);
    }

    [Fact]
    public void A_graph_output_past_the_limit_is_written_in_pieces_and_read_back_whole()
    {
        const int batch = 48;
        var graph = Network(batch, wideOutput: true);
        var x = Reference.Random(batch * 3 * 12 * 12, 10);
        var reference = Network(batch, wideOutput: false);
        reference.Outputs[0] = "r1";
        using var session = Small.Compile(graph, [batch, 3, 12, 12]);
        var outputs = session.Run(new Dictionary<string, HostTensor> { ["x"] = HostTensor.FromFloats([batch, 3, 12, 12], x) });
        Assert.Equal(new TensorShape(batch, 20, 12, 12), outputs["r1"].Shape);
        Tolerance.AssertClose(CpuNetwork.Run(reference, x), outputs["r1"].Floats!, Tolerance.Op, "r1");
        Tolerance.AssertClose(CpuNetwork.Run(Network(batch, false), x), outputs["y"].Floats!, Tolerance.Op, "y");
    }

    /// <summary>An oversized graph input reaching the pieced node through a view (Flatten) keeps its own buffer past the limit.
    /// </summary>
    [Fact]
    public void A_graph_input_past_the_limit_read_through_a_view_runs_in_pieces()
    {
        const int n = 64, k = 400, m = 10;   // x: 100 KiB
        var g = new Ir.Graph { Name = "view" };
        g.Inputs.Add(new ValueInfo("x", [n, 4, 100]));
        g.Initializers["w"] = HostTensor.FromFloats([m, k], Reference.Random(m * k, 41, -0.1f, 0.1f));
        g.Nodes.Add(new Node("Flatten", "flatten", ["x"], ["f"]));
        g.Nodes.Add(new Node("Gemm", "fc", ["f", "w"], ["y"], new Attributes().Set("transB", 1)));
        g.Outputs.Add("y");
        var x = Reference.Random(n * k, 42);
        using var session = Small.Compile(g, [n, 4, 100]);
        Assert.Equal(1, session.Passes.NodesRunInBatchPieces);
        var expected = new float[n * m];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            {
                double sum = 0;
                for (int t = 0; t < k; t++) sum += (double)x[i * k + t] * g.Initializers["w"].Floats![j * k + t];
                expected[i * m + j] = (float)sum;
            }
        Tolerance.AssertClose(expected, session.Run(x), Tolerance.Op);
    }

    [Fact]
    public void One_image_larger_than_the_limit_is_refused_naming_the_tensor_and_the_node()
    {
        var graph = Network(1, wideOutput: false);
        graph.Inputs[0] = new ValueInfo("x", [1, 3, 96, 96]);
        var e = Assert.Throws<TensorTooLargeException>(() => Small.Compile(graph, [1, 3, 96, 96]));
        Assert.Contains("'conv1'", e.Message);
        Assert.Contains("[1, 20, 96, 96]", e.Message);
        Assert.Contains("one image (in steps", e.Message);
        Assert.Equal(Limit, e.Limit);
    }

    [Fact]
    public void A_node_that_mixes_the_images_of_a_batch_past_the_limit_is_refused_saying_so()
    {
        var g = new Ir.Graph { Name = "mix" };
        g.Inputs.Add(new ValueInfo("x", [64, 400]));
        g.Nodes.Add(new Node("Softmax", "softmax_over_batch", ["x"], ["y"], new Attributes().Set("axis", 0)));
        g.Outputs.Add("y");
        var e = Assert.Throws<TensorTooLargeException>(() => Small.Compile(g, [64, 400]));
        Assert.Contains("'softmax_over_batch'", e.Message);
        Assert.Contains("mixes the images", e.Message);
    }

    /// <summary>One node per case, its batch past 64 KiB, an image within a piece's 16 KiB.</summary>
    public static TheoryData<string> PerSampleOps => new()
    {
        "ConvTranspose", "AveragePool", "GlobalMaxPool", "Sigmoid", "Mul broadcast", "Add", "Concat", "Softmax", "Resize", "LRN",
        "InstanceNormalization", "MatMul", "Gemm with per-row C",
    };

    /// <summary>The pieces compute what the whole does: each case on the 64 KiB device (in pieces) against the same graph on the
    /// device's own limit (whole). The kernels themselves are held to CPU references in Ops/*Tests; this checks the split.</summary>
    [Theory]
    [MemberData(nameof(PerSampleOps))]
    public void Every_per_sample_op_runs_in_pieces_as_it_runs_whole(string op) => RunsInPiecesAsWhole(op, StoragePrecision.Fp32);

    /// <summary>In fp16 storage the pieces (and constants cut per piece, like a per-row C) keep the whole's storage.</summary>
    [Theory]
    [InlineData("Gemm with per-row C")]
    [InlineData("Mul broadcast")]
    [InlineData("Concat")]
    public void Per_sample_ops_in_fp16_storage_run_in_pieces_as_they_run_whole(string op) => RunsInPiecesAsWhole(op, StoragePrecision.Fp16);

    private void RunsInPiecesAsWhole(string op, StoragePrecision precision)
    {
        const int n = 40;
        var g = new Ir.Graph { Name = "op" };
        TensorShape x = op is "MatMul" or "Gemm with per-row C" ? new TensorShape(n, 600) : new TensorShape(n, 8, 10, 10);
        g.Inputs.Add(new ValueInfo("x", x));
        var k2 = new Attributes().Set("kernel_shape", new[] { 2, 2 });
        Node node = op switch
        {
            "ConvTranspose" => new Node("ConvTranspose", "op", ["x", "w"], ["y"], k2.Set("strides", new[] { 2, 2 })),
            "AveragePool" => new Node("AveragePool", "op", ["x"], ["y"], k2),
            "GlobalMaxPool" => new Node("GlobalMaxPool", "op", ["x"], ["y"]),
            "Sigmoid" => new Node("Sigmoid", "op", ["x"], ["y"]),
            "Mul broadcast" => new Node("Mul", "op", ["x", "s"], ["y"]),
            "Add" => new Node("Add", "op", ["x", "x2"], ["y"]),
            "Concat" => new Node("Concat", "op", ["x", "x2"], ["y"], new Attributes().Set("axis", 1)),
            "Softmax" => new Node("Softmax", "op", ["x"], ["y"], new Attributes().Set("axis", -1)),
            "Resize" => new Node("Resize", "op", ["x", "", "scales"], ["y"], new Attributes().Set("mode", "nearest")),
            "LRN" => new Node("LRN", "op", ["x"], ["y"], new Attributes().Set("size", 3)),
            "InstanceNormalization" => new Node("InstanceNormalization", "op", ["x", "s1", "b1"], ["y"]),
            "MatMul" => new Node("MatMul", "op", ["x", "w"], ["y"]),
            _ => new Node("Gemm", "op", ["x", "w", "c"], ["y"], new Attributes().Set("transB", 1)),
        };
        g.Nodes.Add(node);
        g.Outputs.Add("y");
        g.Initializers["w"] = op switch
        {
            "ConvTranspose" => HostTensor.FromFloats([8, 4, 2, 2], Reference.Random(128, 11)),
            "MatMul" => HostTensor.FromFloats([600, 30], Reference.Random(18000, 12, -0.1f, 0.1f)),
            _ => HostTensor.FromFloats([30, 600], Reference.Random(18000, 13, -0.1f, 0.1f)),
        };
        g.Initializers["s"] = HostTensor.FromFloats([1, 8, 1, 1], Reference.Random(8, 14));
        g.Initializers["s1"] = HostTensor.FromFloats([8], Reference.Random(8, 15, 0.5f, 1.5f));
        g.Initializers["b1"] = HostTensor.FromFloats([8], Reference.Random(8, 16));
        g.Initializers["scales"] = HostTensor.FromFloats([4], [1, 1, 2, 2]);
        g.Initializers["c"] = HostTensor.FromFloats([n, 30], Reference.Random(n * 30, 17));
        var inputs = new Dictionary<string, HostTensor> { ["x"] = HostTensor.FromFloats(x, Reference.Random((int)x.ElementCount, 18)) };
        if (node.Inputs.Contains("x2"))
        {
            g.Inputs.Add(new ValueInfo("x2", x));
            inputs["x2"] = HostTensor.FromFloats(x, Reference.Random((int)x.ElementCount, 19));
        }
        foreach (var unused in g.Initializers.Keys.Where(k => !node.Inputs.Contains(k)).ToList()) g.Initializers.Remove(unused);

        using var whole = Device.Compile(g, null, new SessionOptions { Precision = precision });
        using var pieces = Small.Compile(g, null, new SessionOptions { Precision = precision });
        Assert.Equal(0, whole.Passes.NodesRunInBatchPieces);
        // MatMul's and Gemm's 70 KiB weights are split too: each weight piece's node then runs in batch pieces.
        bool weights = op is "MatMul" or "Gemm with per-row C";
        Assert.Equal(weights ? 1 : 0, pieces.Passes.WeightsSplit);
        int expected = weights ? 3 : 1;
        if (precision == StoragePrecision.Fp32) Assert.Equal(expected, pieces.Passes.NodesRunInBatchPieces);
        else Assert.True(pieces.Passes.NodesRunInBatchPieces > expected, "the Casts at the graph's edges run in pieces too");
        var reference = whole.Run(inputs)["y"];
        var actual = pieces.Run(inputs)["y"];
        Assert.Equal(reference.Shape, actual.Shape);
        Tolerance.AssertClose(reference.Floats, actual.Floats, Tolerance.Op, op);
    }

    [Fact]
    public void The_compiler_s_own_piece_ops_are_not_accepted_from_a_model()
    {
        var g = new Ir.Graph { Name = "internal" };
        g.Inputs.Add(new ValueInfo("x", [4, 8]));
        g.Nodes.Add(new Node("vkcnn.BatchSlice", "slice", ["x"], ["y"], new Attributes().Set("start", 0).Set("count", 2)));
        g.Outputs.Add("y");
        var e = Assert.Throws<UnsupportedOperatorException>(() => Device.Compile(g, [4, 8]));
        Assert.Contains("vkcnn.BatchSlice (node 'slice') is not implemented", e.Message);
        Assert.False(VulkanCnn.Ops.OperatorRegistry.IsSupported("vkcnn.BatchConcat"));
        Assert.DoesNotContain(VulkanCnn.Ops.OperatorRegistry.OpTypes, t => t.StartsWith("vkcnn.", StringComparison.Ordinal));
    }
}
