using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Training;

/// <summary>Forward outputs and accumulated input gradients of one node, from <see cref="BackwardRunner.Run"/>.</summary>
internal sealed record BackwardResult(IReadOnlyList<HostTensor> Outputs, IReadOnlyList<HostTensor?> InputGradients);

/// <summary>
/// Runs one node forward and backward on the GPU from host data: the harness of the backward
/// kernel tests and of gradient checks. Input gradients start from <c>initialGradients</c>
/// (zeros by default) so accumulation is observable.
/// </summary>
internal static class BackwardRunner
{
    public static BackwardResult Run(GpuDevice device, Node node, IReadOnlyList<NodeInput?> inputs,
        IReadOnlyList<HostTensor?> outputGradients,
        IReadOnlyList<bool> wantGradient, bool training = true, IReadOnlyList<HostTensor?>? initialGradients = null)
    {
        if (!NodeKernels.IsDifferentiable(node))
            throw new NotSupportedException($"{node.OpType} has no backward pass yet.");
        var shapes = inputs.Select(i => i?.Value.Shape).ToList();
        var constants = inputs.Select(i => i is { IsConstant: true } ? i.Value : null).ToList();
        var outShapes = NodeKernels.InferShapes(node, shapes, constants);
        var owned = new List<IDisposable>();
        var kernels = new List<BoundKernel>();
        try
        {
            Tensor Upload(HostTensor c,
                string name)
            { var t = Tensor.FromData(device, c.Shape, c.AsFloats(), name); owned.Add(t); return t; }
            var inputTensors = inputs.Select((i, k) => i is { Value.Floats: not null } ? Upload(i.Value, $"{node.Name}.x{k}")
                : null).ToList();
            var outputs = NodeKernels.CreateOutputs(device, node, outShapes, inputTensors, owned);
            var forward = NodeKernels.BuildForward(device, node, shapes, constants, inputTensors, outputs, owned, kernels,
                training ? KernelMode.TrainingForward : KernelMode.Inference);

            var outGrads = outShapes.Select((s, k) => k < outputGradients.Count && outputGradients[k] is { } g
                ? Upload(g, $"{node.Name}.dy{k}") : null).ToList();
            var inGrads = inputs.Select((input, k) =>
            {
                if (input is null || k >= wantGradient.Count || !wantGradient[k]) return null;
                if (!NodeKernels.HasGradient(node, k)) throw new ArgumentException($"{node.OpType} input {k} has no gradient.",
                    nameof(wantGradient));
                var init = initialGradients is not null && k < initialGradients.Count && initialGradients[k] is { } g0 ? g0
                    : HostTensor.FromFloats(input.Value.Shape, new float[input.Value.Shape.ElementCount]);
                return Upload(init, $"{node.Name}.dx{k}");
            }).ToList();
            NodeKernels.BuildBackward(forward, outGrads, inGrads);

            using (var rec = new CommandRecording(device, node.Name + " forward+backward"))
            {
                foreach (var k in kernels) rec.Dispatch(k);
                rec.Finish();
                rec.Run();
            }
            return new BackwardResult(
                outputs.Select(o => HostTensor.FromFloats(o!.Shape, o.ToArray())).ToList(),
                inGrads.Select(g => g is null ? null : HostTensor.FromFloats(g.Shape, g.ToArray())).ToList());
        }
        finally
        {
            foreach (var k in kernels) k.Dispose();
            for (int i = owned.Count - 1; i >= 0; i--) owned[i].Dispose();
        }
    }
}
