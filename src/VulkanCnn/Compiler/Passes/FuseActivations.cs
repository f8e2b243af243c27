using VulkanCnn.Ir;
using VulkanCnn.Ops;

namespace VulkanCnn.Compiler.Passes;

/// <summary>
/// Folds a pointwise activation into the node that produces its input (Conv → Relu becomes one
/// Conv with a fused Relu) when the producer accepts one and nothing else reads the raw value.
/// An optional filter narrows it (training fuses only what every backward kernel can differentiate).
/// </summary>
internal static class FuseActivations
{
    public static int Run(Graph graph, Func<Node, FusedActivation, bool>? allow = null)
    {
        int fused = 0;
        var producer = GraphEdit.Producers(graph);
        var consumers = GraphEdit.Consumers(graph);
        foreach (var act in graph.Nodes.ToList())
        {
            if (!act.HasInput(0) || !producer.TryGetValue(act.Inputs[0], out var source)) continue;
            if (!Unary.TryGetActivation(act, i => act.HasInput(i) && graph.Initializers.TryGetValue(act.Inputs[i], out var c) ? c : null,
                out var activation))
                continue;
            if (!OperatorRegistry.TryGet(source.OpType, out var op)
                || !op.Traits(source).HasFlag(OperatorTraits.AcceptsFusedActivation)) continue;
            if (FusedActivation.FromAttributes(source.Attributes).Kind != ActivationKind.None) continue;
            if (source.Outputs.Count != 1 || GraphEdit.UseCount(graph, consumers, source.Outputs[0]) != 1) continue;
            if (allow is not null && !allow(source, activation)) continue;

            activation.WriteTo(source.Attributes);
            graph.Nodes.Remove(act);
            // The producer now writes the activation's output name directly.
            string oldName = source.Outputs[0];
            source.Outputs[0] = act.Outputs[0];
            producer.Remove(oldName);
            producer[act.Outputs[0]] = source;
            fused++;
        }
        return fused;
    }
}
