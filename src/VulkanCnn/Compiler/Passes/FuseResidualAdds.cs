using VulkanCnn.Ir;
using VulkanCnn.Ops;

namespace VulkanCnn.Compiler.Passes;

/// <summary>
/// Folds a residual Add (and the activation already fused into it) into the epilogue of the Conv that produces one of its
/// inputs: Add(Conv(x), r) → Relu becomes one Conv(x, w, b, r) computing act(conv + b + r), so ResNet's blocks and
/// MobileNetV2's inverted residuals write their sum once instead of reading two tensors back. Only when the Conv has no
/// activation of its own, nothing else reads its raw output, and r has the output's shape (no broadcast). Runs on the
/// shapes inferred after the other passes; inference only (training differentiates the unfused graph).
/// </summary>
internal static class FuseResidualAdds
{
    public static int Run(Graph graph, Dictionary<string, TensorShape> shapes)
    {
        int fused = 0;
        var producer = GraphEdit.Producers(graph);
        var consumers = GraphEdit.Consumers(graph);
        foreach (var add in graph.Nodes.Where(n => n.OpType == "Add").ToList())
        {
            if (add.Inputs.Count != 2 || !add.HasInput(0) || !add.HasInput(1) || add.Outputs.Count != 1) continue;
            if (!shapes.TryGetValue(add.Outputs[0], out var shape)) continue;
            for (int k = 0; k < 2; k++)
            {
                string convOutput = add.Inputs[k], other = add.Inputs[1 - k];
                if (!producer.TryGetValue(convOutput, out var conv) || conv.OpType != "Conv" || conv.Outputs.Count != 1) continue;
                if (conv.Inputs.Count > Conv.ResidualInput || other == convOutput) continue;
                if (FusedActivation.FromAttributes(conv.Attributes).Kind != ActivationKind.None) continue;
                if (GraphEdit.UseCount(graph, consumers, convOutput) != 1) continue;
                if (shapes.GetValueOrDefault(convOutput) != shape || shapes.GetValueOrDefault(other) != shape) continue;

                while (conv.Inputs.Count < Conv.ResidualInput) conv.Inputs.Add("");
                conv.Inputs.Add(other);
                FusedActivation.FromAttributes(add.Attributes).WriteTo(conv.Attributes);
                shapes.Remove(convOutput);
                conv.Outputs[0] = add.Outputs[0];
                producer[add.Outputs[0]] = conv;
                graph.Nodes.Remove(add);
                fused++;
                break;
            }
        }
        return fused;
    }
}
