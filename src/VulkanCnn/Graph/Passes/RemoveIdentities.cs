using VulkanCnn.Ops;

namespace VulkanCnn.Graph.Passes;

/// <summary>Drops Identity/Dropout nodes by wiring their consumers to their input.</summary>
internal static class RemoveIdentities
{
    public static int Run(Graph graph)
    {
        int removed = 0;
        foreach (var node in graph.Nodes.ToList())
        {
            if (!OperatorRegistry.TryGet(node.OpType, out var op) || !op.Traits(node).HasFlag(OperatorTraits.Identity)) continue;
            string input = node.Inputs[0], output = node.Outputs[0];
            // A graph output that is directly a graph input keeps its node (a view), so both names exist.
            if (graph.Outputs.Contains(output) && graph.Inputs.Any(i => i.Name == input)) continue;
            if (graph.Outputs.Contains(output) && graph.Outputs.Contains(input)) continue;
            graph.Nodes.Remove(node);
            GraphEdit.Replace(graph, output, input);
            removed++;
        }
        return removed;
    }
}
