using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Compiler.Passes;

/// <summary>
/// Evaluates nodes whose inputs are all constants once, on the GPU (through the operators
/// themselves, so there is no second CPU implementation), and replaces them by initializers.
/// </summary>
internal static class FoldConstants
{
    public static int Run(Graph graph, GpuDevice device)
    {
        int folded = 0;
        foreach (var node in graph.TopologicalOrder())
        {
            if (node.Inputs.Count == 0 || !node.Inputs.All(i => i.Length == 0 || graph.Initializers.ContainsKey(i))) continue;
            if (!node.Inputs.Any(i => i.Length > 0)) continue;
            if (node.Outputs.Any(graph.Outputs.Contains)) continue; // graph outputs stay computed values
            if (!OperatorRegistry.TryGet(node.OpType, out _)) continue;
            var inputs = node.Inputs.Select(i => i.Length == 0 ? null : new NodeInput(graph.Initializers[i], IsConstant: true)).ToList();
            // Integer constants feeding shape arguments stay as they are: only float results are folded.
            if (inputs.Any(i => i is { Value.IsInteger: true }) && inputs.All(i => i is null || i.Value.IsInteger)) continue;
            // Empty values are resolved after shape inference (CompiledGraph.ResolveEmpty), not folded.
            if (inputs.Any(i => i is { Value.Shape.IsEmpty: true })) continue;
            var outputs = NodeRunner.Run(device, node, inputs);
            for (int k = 0; k < node.Outputs.Count; k++)
                if (node.Outputs[k].Length > 0) graph.Initializers[node.Outputs[k]] = outputs[k];
            graph.Nodes.Remove(node);
            folded++;
        }
        return folded;
    }
}
