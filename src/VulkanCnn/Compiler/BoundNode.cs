using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Compiler;

/// <summary>
/// One IR node bound to GPU tensors outside a session: its kernels (descriptor sets written
/// once) and the weights its operator derived. For custom pipelines, benchmarks and tests.
/// </summary>
public sealed class BoundNode : IDisposable
{
    private readonly List<IDisposable> _owned;

    private BoundNode(Node node, List<BoundKernel> kernels, List<IDisposable> owned)
    {
        Node = node;
        Kernels = kernels;
        _owned = owned;
    }

    public Node Node { get; }
    public IReadOnlyList<BoundKernel> Kernels { get; }

    /// <summary>Binds <paramref name="node"/>; a null input tensor is an omitted input, an empty one or one given only as a
    /// <paramref name="constants"/> entry; a null output is an omitted or empty output.</summary>
    public static BoundNode Bind(GpuDevice device, Node node, IReadOnlyList<Tensor?> inputs, IReadOnlyList<Tensor?> outputs,
        IReadOnlyList<HostTensor?>? constants = null) => Bind(device, node, inputs, outputs, constants, DataType.Float32);

    /// <summary>Binds <paramref name="node"/> with its float tensors stored as <paramref name="storage"/> (the .f16 kernels for
    /// Float16).</summary>
    internal static BoundNode Bind(GpuDevice device, Node node, IReadOnlyList<Tensor?> inputs, IReadOnlyList<Tensor?> outputs,
        IReadOnlyList<HostTensor?>? constants, DataType storage)
    {
        constants ??= [];
        var shapes = node.Inputs.Select((_, i) => i < inputs.Count && inputs[i] is { } t ? t.Shape : i < constants.Count
            ? constants[i]?.Shape : null).ToList();
        var constantList = node.Inputs.Select((_, i) => i < constants.Count ? constants[i] : null).ToList();
        var inferred = NodeKernels.InferShapes(node, shapes, constantList);
        for (int i = 0; i < outputs.Count && i < inferred.Count; i++)
            if (outputs[i] is { } given && given.Shape != inferred[i])
                throw new GraphException(node,
                    $"output {i} tensor '{given.Name}' has shape {given.Shape}; the node produces {inferred[i]}");
        var kernels = new List<BoundKernel>();
        var owned = new List<IDisposable>();
        try
        {
            NodeKernels.BuildForward(device, node, shapes, constantList, inputs, outputs, owned, kernels, KernelMode.Inference,
                storage: storage);
            return new BoundNode(node, kernels, owned);
        }
        catch
        {
            foreach (var k in kernels) k.Dispose();
            foreach (var d in owned) d.Dispose();
            throw;
        }
    }

    public void Record(CommandRecording recording)
    {
        foreach (var k in Kernels) recording.Dispatch(k);
    }

    public void Dispose()
    {
        foreach (var k in Kernels) k.Dispose();
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
    }
}
