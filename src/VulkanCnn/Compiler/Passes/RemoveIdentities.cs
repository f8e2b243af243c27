using VulkanCnn.Ir;
using VulkanCnn.Ops;

namespace VulkanCnn.Compiler.Passes;

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
            if (graph.Outputs.Contains(output))
            {
                // Graph outputs keep their names: the producer of the input writes the output name instead.
                var producer = graph.Nodes.FirstOrDefault(n => n.Outputs.Contains(input));
                if (producer is null || graph.Outputs.Contains(input)) continue; // a graph input/initializer/output: keep the view
                graph.Nodes.Remove(node);
                producer.Outputs[producer.Outputs.IndexOf(input)] = output;
                GraphEdit.Replace(graph, input, output);
            }
            else
            {
                graph.Nodes.Remove(node);
                GraphEdit.Replace(graph, output, input);
            }
            removed++;
        }
        return removed;
    }
}
