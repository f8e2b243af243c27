using VulkanCnn.Ir;
namespace VulkanCnn.Compiler.Passes;

/// <summary>
/// Folds an inference BatchNormalization into the Conv before it: W' = W·s, b' = b·s + shift per
/// output channel, with s and shift from <see cref="Ops.BatchNormalization.FoldParameters"/>.
/// Needs constant weights and BN parameters.
/// </summary>
internal static class FoldBatchNorm
{
    public static int Run(Graph graph)
    {
        int folded = 0;
        var consumers = GraphEdit.Consumers(graph);
        var producer = GraphEdit.Producers(graph);
        foreach (var bn in graph.Nodes.Where(n => n.OpType == "BatchNormalization").ToList())
        {
            if (!producer.TryGetValue(bn.Inputs[0], out var conv) || conv.OpType != "Conv") continue;
            if (GraphEdit.UseCount(graph, consumers, conv.Outputs[0]) != 1 || bn.Outputs.Count(o => o.Length > 0) != 1) continue;
            if (conv.Attributes.Has(Ops.FusedActivation.KindAttribute)) continue;
            // not an inference BN: let the op refuse it
            if (bn.Attributes.Int("training_mode", 0) != 0 || bn.Attributes.Int("spatial", 1) != 1) continue;
            if (!TryConst(graph, conv, 1, out var w) || w.Floats is null) continue;
            HostTensor? b = null;
            if (conv.HasInput(2) && (!TryConst(graph, conv, 2, out b) || b!.Floats is null)) continue;
            if (!TryConst(graph, bn, 1, out var gamma) || !TryConst(graph, bn, 2, out var beta)
                || !TryConst(graph, bn, 3, out var mean) || !TryConst(graph, bn, 4, out var variance)) continue;
            int cout = w.Shape[0];
            if (gamma.Shape.ElementCount != cout || beta.Shape.ElementCount != cout || mean.Shape.ElementCount != cout
                || variance.Shape.ElementCount != cout) continue;
            var (scale, shift) = Ops.BatchNormalization.FoldParameters(gamma.AsFloats(), beta.AsFloats(), mean.AsFloats(),
                variance.AsFloats(),
                bn.Attributes.Float("epsilon", 1e-5f));
            var newW = (float[])w.Floats.Clone();
            var newB = new float[cout];
            long per = w.Shape.ElementCount / cout;
            for (int c = 0; c < cout; c++)
            {
                for (long k = 0; k < per; k++) newW[c * per + k] = w.Floats[c * per + k] * scale[c];
                newB[c] = (b?.Floats![c] ?? 0) * scale[c] + shift[c];
            }
            string wName = GraphEdit.FreshInitializer(graph, conv.Name + ".folded_weight");
            string bName = GraphEdit.FreshInitializer(graph, conv.Name + ".folded_bias");
            graph.Initializers[wName] = HostTensor.FromFloats(w.Shape, newW);
            graph.Initializers[bName] = HostTensor.FromFloats(new TensorShape(cout), newB);
            conv.Inputs[1] = wName;
            if (conv.Inputs.Count > 2) conv.Inputs[2] = bName; else conv.Inputs.Add(bName);
            conv.Outputs[0] = bn.Outputs[0];
            graph.Nodes.Remove(bn);
            folded++;
        }
        return folded;
    }

    private static bool TryConst(Graph graph, Node node, int index, out HostTensor value)
    {
        value = null!;
        return node.HasInput(index) && graph.Initializers.TryGetValue(node.Inputs[index], out value!);
    }
}
