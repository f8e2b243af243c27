using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Tests.Ops;
using IrGraph = VulkanCnn.Ir.Graph;

namespace VulkanCnn.Tests.Graph;

/// <summary>Passes/FoldConvScaleShift: per-channel constant arithmetic after a Conv folded into its weights and bias.</summary>
public sealed class ConvScaleShiftTests(GpuFixture gpu) : GpuTest(gpu)
{
    private const int M = 5;
    private static readonly ConvCase Case = new(1, 3, 6, 7, M, 3, 3, Pads: [1, 1, 1, 1]);

    private static IrGraph Conv(out float[] x, out float[] w)
    {
        var (xs, ws, _) = ConvTests.Inputs(Case, seed: 4);
        (x, w) = (xs, ws);
        var g = new IrGraph { Name = "conv-scale-shift" };
        g.Inputs.Add(new ValueInfo("x", [1, 3, 6, 7]));
        g.Initializers["w"] = HostTensor.FromFloats([M, 3, 3, 3], ws);
        g.Nodes.Add(new Node("Conv", "conv", ["x", "w"], ["c"], ConvTests.Attributes(Case)));
        return g;
    }

    [Fact]
    public void A_chain_of_per_channel_constants_folds_into_the_conv_and_gives_the_same_result()
    {
        var g = Conv(out var x, out var w);
        float[] scale = [0.5f, -2f, 1.5f, 3f, -0.25f], shift = [0.1f, -0.2f, 0.3f, 0f, 1f];
        g.Initializers["scale"] = HostTensor.FromFloats([1, M, 1, 1], scale);
        g.Initializers["shift"] = HostTensor.FromFloats([M, 1, 1], shift);
        g.Initializers["one"] = HostTensor.Scalar(0.75f);
        g.Initializers["divisor"] = HostTensor.FromFloats([1], [4f]);
        g.Nodes.Add(new Node("Mul", "mul", ["scale", "c"], ["m"])); // the constant first
        g.Nodes.Add(new Node("Add", "add", ["m", "shift"], ["a"]));
        g.Nodes.Add(new Node("Sub", "sub", ["a", "one"], ["s"]));
        g.Nodes.Add(new Node("Div", "div", ["s", "divisor"], ["d"]));
        g.Nodes.Add(new Node("Relu", "relu", ["d"], ["y"]));
        g.Outputs.Add("y");

        var conv = ConvTests.Reference(Case, x, w, null).Y;
        int plane = 6 * 7;
        var expected = conv.Select((v, i) => (float)Math.Max(0, ((double)v * scale[i / plane] + shift[i / plane] - 0.75) / 4)).ToArray();
        using var session = Device.Compile(g);
        Assert.Equal(4, session.Passes.ScaleShiftsFolded);
        Assert.Equal(["Conv"], session.Graph.Nodes.Select(n => n.OpType));
        Tolerance.AssertClose(expected, session.Run(x), Tolerance.Op);
    }

    [Theory]
    [InlineData("rows")]        // broadcasts over rows, not channels
    [InlineData("reversed")]    // c - conv
    [InlineData("shared")]      // the raw conv output is also a graph output
    [InlineData("zero")]        // a division by zero stays a division
    public void What_is_not_per_channel_arithmetic_on_the_conv_alone_is_left(string kind)
    {
        var g = Conv(out var x, out _);
        g.Initializers["k"] = kind switch
        {
            "rows" => HostTensor.FromFloats([1, 1, 6, 1], [1, 2, 3, 4, 5, 6]),
            "zero" => HostTensor.FromFloats([M, 1, 1], [1, 0, 1, 1, 1]),
            _ => HostTensor.FromFloats([M, 1, 1], [1, 2, 3, 4, 5]),
        };
        g.Nodes.Add(kind switch
        {
            "reversed" => new Node("Sub", "op", ["k", "c"], ["y"]),
            "zero" => new Node("Div", "op", ["c", "k"], ["y"]),
            _ => new Node("Add", "op", ["c", "k"], ["y"]),
        });
        g.Outputs.Add("y");
        if (kind == "shared") g.Outputs.Add("c");
        using var session = Device.Compile(g);
        using var plain = Device.Compile(g, options: new SessionOptions { Optimize = false });
        Assert.Equal(0, session.Passes.ScaleShiftsFolded);
        Assert.Equal(2, session.Graph.Nodes.Count);
        var inputs = new Dictionary<string, HostTensor> { ["x"] = HostTensor.FromFloats([1, 3, 6, 7], x) };
        var ours = session.Run(inputs)["y"].Floats!;
        var reference = plain.Run(inputs)["y"].Floats!;
        for (int i = 0; i < ours.Length; i++)
            Assert.True(ours[i].Equals(reference[i]) || Math.Abs(ours[i] - reference[i]) <= 1e-5 * Math.Max(1, Math.Abs(reference[i])),
                $"[{i}] {ours[i]} vs {reference[i]}");
    }
}
