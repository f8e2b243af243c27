using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Compiler;

/// <summary>An input of <see cref="NodeRunner.Run"/>: its value, and whether the operator may treat it as a compile-time
/// constant.</summary>
internal sealed record NodeInput(HostTensor Value, bool IsConstant = false);

/// <summary>
/// Runs one node on the GPU from host data and returns its outputs: the harness of the operator
/// tests and the engine of constant folding (so no operator needs a second, CPU implementation).
/// </summary>
internal static class NodeRunner
{
    /// <summary>Runs <paramref name="node"/> with its float tensors stored as <paramref name="storage"/> (Float16: inputs are
    /// rounded to half on upload, outputs read back as float).</summary>
    public static IReadOnlyList<HostTensor> Run(GpuDevice device, Node node, IReadOnlyList<NodeInput?> inputs,
        DataType storage = DataType.Float32)
    {
        var constants = inputs.Select(i => i is { IsConstant: true } ? i.Value : null).ToList();
        var outShapes = NodeKernels.InferShapes(node, inputs.Select(i => i?.Value.Shape).ToList(), constants);
        // Empty outputs hold nothing to compute: a node with only empty outputs runs no kernel at all.
        if (outShapes.All(s => s.IsEmpty)) return outShapes.Select(s => HostTensor.FromFloats(s, [])).ToList();
        var owned = new List<IDisposable>();
        try
        {
            var inputTensors = inputs.Select(input => input is { Value.Floats: { } data, Value.Shape.IsEmpty: false }
                ? Own(owned, Tensor.FromData(device, input.Value.Shape, data, $"{node.Name}.in", storage)) : null).ToList();
            var outputs = NodeKernels.CreateOutputs(device, node, outShapes, inputTensors, owned, emptyIsNull: true, storage);
            using var bound = BoundNode.Bind(device, node, inputTensors, outputs, constants, storage);
            using (var rec = new CommandRecording(device, node.Name))
            {
                bound.Record(rec);
                rec.Finish();
                rec.Run();
            }
            return outputs.Select((o, i) => HostTensor.FromFloats(outShapes[i], o?.ToArray() ?? [])).ToList();
        }
        finally
        {
            for (int i = owned.Count - 1; i >= 0; i--) owned[i].Dispose();
        }
    }

    private static Tensor Own(List<IDisposable> owned, Tensor t)
    {
        owned.Add(t);
        return t;
    }
}
