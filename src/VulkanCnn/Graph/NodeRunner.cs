using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Graph;

/// <summary>An input of <see cref="NodeRunner.Run"/>: its value, and whether the operator may treat it as a compile-time constant.</summary>
public sealed record NodeInput(ConstantTensor Value, bool IsConstant = false);

/// <summary>
/// Runs one node on the GPU from host data and returns its outputs: the harness of the operator
/// tests and the engine of constant folding (so no operator needs a second, CPU implementation).
/// </summary>
public static class NodeRunner
{
    public static IReadOnlyList<ConstantTensor> Run(GpuDevice device, Node node, IReadOnlyList<NodeInput?> inputs)
    {
        if (!OperatorRegistry.TryGet(node.OpType, out var op))
            throw new UnsupportedOperatorException([$"{node.OpType} (node '{node.Name}') is not implemented"]);
        var shapes = inputs.Select(i => i?.Value.Shape).ToList();
        var constants = inputs.Select(i => i is { IsConstant: true } ? i.Value : null).ToList();
        var outShapes = op.InferShapes(new OpContext(node, shapes, constants));

        var owned = new List<IDisposable>();
        var kernels = new List<BoundKernel>();
        try
        {
            var inputTensors = new List<Tensor?>();
            foreach (var input in inputs)
            {
                Tensor? t = input is { Value.Floats: { } data } ? Tensor.FromData(device, input.Value.Shape, data, $"{node.Name}.in") : null;
                if (t is not null) owned.Add(t);
                inputTensors.Add(t);
            }
            var outputs = new List<Tensor>();
            for (int i = 0; i < outShapes.Count; i++)
            {
                var t = op.Traits(node).HasFlag(OperatorTraits.View) && i == 0
                    ? Tensor.View(inputTensors[0]!.Buffer, outShapes[i], $"{node.Name}.out")
                    : Tensor.Create(device, outShapes[i], $"{node.Name}.out{i}");
                owned.Add(t);
                outputs.Add(t);
            }
            op.Build(new OpBuildContext(device, node, shapes, constants, inputTensors, outputs, owned, kernels));
            using (var rec = new CommandRecording(device, node.Name))
            {
                foreach (var k in kernels) rec.Dispatch(k);
                rec.Finish();
                rec.Run();
            }
            return outputs.Select(o => ConstantTensor.FromFloats(o.Shape, o.ToArray())).ToList();
        }
        finally
        {
            foreach (var k in kernels) k.Dispose();
            for (int i = owned.Count - 1; i >= 0; i--) owned[i].Dispose();
        }
    }
}
