using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Training;

/// <summary>
/// One node's forward pass built from host data (training flag chosen) and recorded ONCE, then
/// replayed: what a trainer does every step. Its input tensors stay reachable, so tests can see
/// in-place updates (BatchNorm's running statistics) and write per-step state (Dropout's step).
/// </summary>
internal sealed class RecordedForward : IDisposable
{
    private readonly List<IDisposable> _owned = new();
    private readonly List<BoundKernel> _kernels = new();
    private readonly CommandRecording _recording;

    public RecordedForward(GpuDevice device, Node node, IReadOnlyList<HostTensor?> inputs, bool training)
    {
        var shapes = inputs.Select(i => i?.Shape).ToList();
        var constants = inputs.Select(_ => (HostTensor?)null).ToList();
        var outShapes = NodeKernels.InferShapes(node, shapes, constants);
        Inputs = inputs.Select((c, k) => c is null ? null
            : Own(Tensor.FromData(device, c.Shape, c.AsFloats(), $"{node.Name}.x{k}"))).ToList();
        Outputs = NodeKernels.CreateOutputs(device, node, outShapes, Inputs, _owned).Select(t => t!).ToList();
        NodeKernels.BuildForward(device, node, shapes, constants, Inputs, Outputs, _owned, _kernels, training ? KernelMode.TrainingForward
            : KernelMode.Inference);
        _recording = new CommandRecording(device, node.Name + " forward");
        foreach (var k in _kernels) _recording.Dispatch(k);
        _recording.Finish();
    }

    public IReadOnlyList<Tensor?> Inputs { get; }
    public IReadOnlyList<Tensor> Outputs { get; }

    /// <summary>Submits the same recording again and waits.</summary>
    public void Run() => _recording.Run();

    private Tensor Own(Tensor t)
    {
        _owned.Add(t);
        return t;
    }

    public void Dispose()
    {
        _recording.Dispose();
        foreach (var k in _kernels) k.Dispose();
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
    }
}
