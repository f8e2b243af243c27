using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using IrGraph = VulkanCnn.Ir.Graph;

namespace VulkanCnn.Tests.Graph;

public sealed class OperatorCoverageTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>The operator library the runtime promises (ONNX names).</summary>
    public static readonly string[] Promised =
    [
        "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LRN", "BatchNormalization",
        "Dropout", "Identity", "Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Silu", "Elu", "Gelu",
        "Softmax", "LogSoftmax", "Add", "Sub", "Mul", "Div", "Max", "Min", "Pow", "Sqrt", "Exp", "Erf", "Neg", "Abs", "PRelu",
        "Where", "Expand", "Cast", "InstanceNormalization", "LayerNormalization", "ArgMax", "TopK", "DepthToSpace", "SpaceToDepth",
        "Concat", "Split", "Slice", "Pad", "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Gather", "Resize", "Upsample",
        "Gemm", "MatMul", "ReduceMean", "ReduceSum", "ReduceMax",
    ];

    [Fact]
    public void Every_promised_operator_is_registered()
    {
        var missing = Promised.Where(op => !OperatorRegistry.TryGet(op, out _)).ToList();
        Assert.True(missing.Count == 0, "not registered: " + string.Join(", ", missing));
    }

    [Fact]
    public void Every_registered_operator_file_has_a_test_class_that_names_it()
    {
        string testSource = string.Concat(Directory.EnumerateFiles(Repo.PathOf("tests", "VulkanCnn.Tests"), "*.cs",
            SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")).Select(File.ReadAllText));
        var untested = OperatorRegistry.OpTypes.Where(op => !testSource.Contains($"\"{op}\"")).ToList();
        Assert.True(untested.Count == 0, "op types never named in a test: " + string.Join(", ", untested));
    }

    [Fact]
    public void Quantized_graphs_are_refused_by_name()
    {
        var g = new IrGraph();
        g.Inputs.Add(new ValueInfo("x", [1, 4]));
        g.Initializers["s"] = HostTensor.Scalar(0.1f);
        g.Nodes.Add(new Node("QuantizeLinear", "q", ["x", "s"], ["xq"]));
        g.Nodes.Add(new Node("DequantizeLinear", "dq", ["xq", "s"], ["y"]));
        g.Outputs.Add("y");
        var e = Assert.Throws<UnsupportedOperatorException>(() => Device.Compile(g));
        Assert.Equal(2, e.Problems.Count);
        Assert.All(e.Problems, p => Assert.Contains("quantized (QDQ/int8)", p));
    }
}
