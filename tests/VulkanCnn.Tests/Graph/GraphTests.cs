using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using IrGraph = VulkanCnn.Ir.Graph;

namespace VulkanCnn.Tests.Graph;

public sealed class GraphTests
{
    [Fact]
    public void Topological_order_follows_dependencies_whatever_the_node_order()
    {
        var g = new IrGraph();
        g.Inputs.Add(new ValueInfo("x", [1, 4]));
        g.Nodes.Add(new Node("Relu", "c", ["b"], ["y"]));
        g.Nodes.Add(new Node("Relu", "b", ["a"], ["b"]));
        g.Nodes.Add(new Node("Relu", "a", ["x"], ["a"]));
        g.Outputs.Add("y");
        Assert.Equal(["a", "b", "c"], g.TopologicalOrder().Select(n => n.Name));
    }

    [Fact]
    public void Cycles_and_dangling_inputs_are_named()
    {
        var g = new IrGraph();
        g.Inputs.Add(new ValueInfo("x", [1]));
        g.Nodes.Add(new Node("Add", "p", ["x", "q_out"], ["p_out"]));
        g.Nodes.Add(new Node("Relu", "q", ["p_out"], ["q_out"]));
        g.Outputs.Add("q_out");
        var cycle = Assert.Throws<GraphException>(() => g.TopologicalOrder());
        Assert.Contains("cycle", cycle.Message);

        var h = new IrGraph();
        h.Nodes.Add(new Node("Relu", "r", ["nowhere"], ["y"]));
        h.Outputs.Add("y");
        var dangling = Assert.Throws<GraphException>(() => h.TopologicalOrder());
        Assert.Contains("'nowhere'", dangling.Message);
        Assert.Contains("'r'", dangling.Message);
    }
}
