using VulkanCnn.Ir;

namespace VulkanCnn.Compiler.Passes;

/// <summary>
/// Folds a chain of per-channel constant arithmetic after a Conv into its weights and bias — Conv → Mul(s) → Add(t)
/// becomes one Conv with W·s and b·s + t — as exporters write a bias or a scale separately (Conv without bias + Add,
/// a Mul by a per-channel or scalar constant, Sub, Div). The constant must broadcast per output channel only (a scalar,
/// [1], [M, 1, 1] or [1, M, 1, 1], with 1s for M), so the result keeps the Conv's shape. Needs constant weights (and bias)
/// and a Conv with no activation whose output nothing else reads; a division by zero is left alone.
/// </summary>
internal static class FoldConvScaleShift
{
    public static int Run(Graph graph)
    {
        int folded = 0;
        bool changed = true;
        while (changed) // one link of a chain per round: Conv → Mul → Add folds the Mul, then the Add
        {
            changed = false;
            var consumers = GraphEdit.Consumers(graph);
            var producer = GraphEdit.Producers(graph);
            foreach (var op in graph.Nodes.Where(n => n.OpType is "Add" or "Sub" or "Mul" or "Div").ToList())
            {
                if (op.Inputs.Count != 2 || !op.HasInput(0) || !op.HasInput(1) || op.Outputs.Count != 1) continue;
                if (op.Attributes.Has(Ops.FusedActivation.KindAttribute)) continue;
                for (int k = 0; k < 2 && !changed; k++)
                {
                    if (k == 1 && op.OpType is "Sub" or "Div") break; // c - conv and c / conv are not affine in the conv
                    if (!producer.TryGetValue(op.Inputs[k], out var conv) || conv.OpType != "Conv" || conv.Outputs.Count != 1) continue;
                    if (!graph.Initializers.TryGetValue(op.Inputs[1 - k], out var constant) || constant.Floats is null) continue;
                    if (conv.Inputs.Count > 3 || conv.Attributes.Has(Ops.FusedActivation.KindAttribute)) continue;
                    if (GraphEdit.UseCount(graph, consumers, conv.Outputs[0]) != 1) continue;
                    if (!graph.Initializers.TryGetValue(conv.Inputs[1], out var w) || w.Floats is null || w.Shape.Rank != 4) continue;
                    HostTensor? b = null;
                    if (conv.HasInput(2) && (!graph.Initializers.TryGetValue(conv.Inputs[2], out b) || b.Floats is null)) continue;
                    int m = w.Shape[0];
                    if (PerChannel(constant, m) is not { } values) continue;
                    if (op.OpType == "Div" && values.Any(v => v == 0)) continue;
                    Fold(graph, conv, op, w, b, values, m);
                    changed = true;
                    folded++;
                }
                if (changed) break; // the maps are stale: rebuild them
            }
        }
        return folded;
    }

    /// <summary>The constant as one value per output channel, or null when it broadcasts over anything else.</summary>
    private static float[]? PerChannel(HostTensor c, int m)
    {
        var dims = c.Shape.Dimensions.ToArray();
        if (dims.Length > 4) return null;
        // Right-aligned against [N, M, H, W]: every dim 1, except the one facing M, which may be M.
        for (int i = 0; i < dims.Length; i++)
        {
            int axis = 4 - dims.Length + i;
            if (dims[i] != 1 && !(axis == 1 && dims[i] == m)) return null;
        }
        var data = c.Floats!;
        return data.Length == m ? data : Enumerable.Repeat(data[0], m).ToArray();
    }

    private static void Fold(Graph graph, Node conv, Node op, HostTensor w, HostTensor? b, float[] c, int m)
    {
        var newW = w.Floats!;
        var newB = b?.Floats is { } bias ? (float[])bias.Clone() : new float[m];
        if (op.OpType is "Mul" or "Div")
        {
            newW = (float[])newW.Clone();
            long per = w.Shape.ElementCount / m;
            bool divide = op.OpType == "Div"; // divided, not multiplied by 1/c: 1/c overflows for tiny c where w/c does not
            for (int o = 0; o < m; o++)
            {
                for (long i = 0; i < per; i++) newW[o * per + i] = divide ? newW[o * per + i] / c[o] : newW[o * per + i] * c[o];
                newB[o] = divide ? newB[o] / c[o] : newB[o] * c[o];
            }
        }
        else
            for (int o = 0; o < m; o++) newB[o] += op.OpType == "Add" ? c[o] : -c[o];
        if (!ReferenceEquals(newW, w.Floats))
        {
            string wName = GraphEdit.FreshInitializer(graph, conv.Name + ".scaled_weight");
            graph.Initializers[wName] = HostTensor.FromFloats(w.Shape, newW);
            conv.Inputs[1] = wName;
        }
        string bName = GraphEdit.FreshInitializer(graph, conv.Name + ".shifted_bias");
        graph.Initializers[bName] = HostTensor.FromFloats(new TensorShape(m), newB);
        if (conv.Inputs.Count > 2) conv.Inputs[2] = bName; else conv.Inputs.Add(bName);
        conv.Outputs[0] = op.Outputs[0];
        graph.Nodes.Remove(op);
    }
}
