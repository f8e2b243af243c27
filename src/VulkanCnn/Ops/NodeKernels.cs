using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>What a node's kernels are built for.</summary>
internal enum KernelMode
{
    /// <summary>Inference: BatchNorm on running statistics, Dropout off.</summary>
    Inference,
    /// <summary>The training forward: BatchNorm on batch statistics, Dropout active; a backward may follow.</summary>
    TrainingForward,
}

/// <summary>
/// A node's forward kernels as <see cref="NodeKernels.BuildForward"/> built them; its backward is built
/// from the same context (the saved inputs, outputs and forward scratch).
/// </summary>
internal sealed class BuiltNode
{
    private readonly List<BoundKernel> _kernels;
    private readonly int _first, _count;

    internal BuiltNode(IOperator op, OpBuildContext context, List<BoundKernel> kernels, int first)
    {
        Operator = op;
        Context = context;
        _kernels = kernels;
        _first = first;
        _count = kernels.Count - first;
    }

    public Node Node => Context.Node;
    /// <summary>The kernel variant built (null for an operator without variants).</summary>
    public string? Variant => Context.Variant;
    public IOperator Operator { get; }
    internal OpBuildContext Context { get; }

    /// <summary>The kernels the forward build appended, in dispatch order.</summary>
    public IReadOnlyList<BoundKernel> Kernels => _kernels.GetRange(_first, _count);
}

/// <summary>
/// The one road from an IR node to bound kernels: the inference plan, the trainer, <c>BoundNode</c>,
/// the backward runner and the tests' helpers all build through here, and nothing else constructs an
/// <see cref="OpBuildContext"/>. Kernels are appended to the caller's list in dispatch order; tensors and
/// weights the operator derives go to the caller's owned list (disposed by the caller, in reverse order).
/// </summary>
internal static class NodeKernels
{
    /// <summary>The operator of <paramref name="node"/>, or <see cref="UnsupportedOperatorException"/> naming it.</summary>
    public static IOperator Operator(Node node) => OperatorRegistry.TryGet(node.OpType, out var op) ? op
        : throw new UnsupportedOperatorException([$"{node.OpType} (node '{node.Name}') is not implemented"]);

    /// <summary>Output shapes for the given input shapes and constants (null: an omitted input).</summary>
    public static IReadOnlyList<TensorShape> InferShapes(Node node, IReadOnlyList<TensorShape?> inputShapes,
        IReadOnlyList<HostTensor?> constants)
    {
        var context = new OpContext(node, inputShapes, constants);
        var shapes = Operator(node).InferShapes(context);
        VariantSelector.CheckAttribute(context);
        return shapes;
    }

    /// <summary>Output tensors for a node outside a planned arena: a view of input 0 for a View operator, otherwise
    /// new tensors (null where the shape is empty and <paramref name="emptyIsNull"/>). Added to <paramref name="owned"/>.</summary>
    public static List<Tensor?> CreateOutputs(GpuDevice device, Node node, IReadOnlyList<TensorShape> shapes, IReadOnlyList<Tensor?> inputs,
        List<IDisposable> owned, bool emptyIsNull = false, DataType storage = DataType.Float32)
    {
        bool view = Operator(node).Traits(node).HasFlag(OperatorTraits.View);
        var outputs = new List<Tensor?>(shapes.Count);
        for (int k = 0; k < shapes.Count; k++)
        {
            if (emptyIsNull && shapes[k].IsEmpty) { outputs.Add(null); continue; }
            string name = node.Outputs.Count > k && node.Outputs[k].Length > 0 ? node.Outputs[k] : $"{node.Name}.y{k}";
            var t = view && k == 0 && inputs.Count > 0 && inputs[0] is { } source ? Tensor.View(source, shapes[k], name)
                : Tensor.Create(device, shapes[k], name, storage);
            owned.Add(t);
            outputs.Add(t);
        }
        return outputs;
    }

    /// <summary>Builds the forward kernels of <paramref name="node"/> over the given tensors (a null input: omitted, empty or
    /// an int64 constant read through <paramref name="constants"/>; a null output: omitted or empty). The kernel variant comes
    /// from <see cref="VariantSelector.Choose"/>: <paramref name="variant"/> when given (the tuner's), else <paramref
    /// name="tuning"/>. <paramref name="storage"/>: how the node's float tensors are stored (<see cref="OpContext.Storage"/>).
    /// </summary>
    public static BuiltNode BuildForward(GpuDevice device, Node node, IReadOnlyList<TensorShape?> inputShapes,
        IReadOnlyList<HostTensor?> constants,
        IReadOnlyList<Tensor?> inputs, IReadOnlyList<Tensor?> outputs, List<IDisposable> owned, List<BoundKernel> kernels, KernelMode mode,
        Tuning? tuning = null, string? variant = null, DataType storage = DataType.Float32)
    {
        var op = Operator(node);
        string? chosen = VariantSelector.Choose(new OpContext(node, inputShapes, constants) { Storage = storage }, device, tuning, variant);
        var context = new OpBuildContext(device, node, inputShapes, constants, inputs, outputs, owned, kernels)
        { Training = mode == KernelMode.TrainingForward, Variant = chosen, Storage = storage };
        int first = kernels.Count;
        op.Build(context);
        return new BuiltNode(op, context, kernels, first);
    }

    /// <summary>True when <paramref name="node"/>'s operator has a backward pass.</summary>
    public static bool IsDifferentiable(Node node) => Operator(node) is IDifferentiable;

    /// <summary>Appends the backward kernels of a node built by <see cref="BuildForward"/>: they ADD into
    /// <paramref name="inputGradients"/> (null where not wanted) from <paramref name="outputGradients"/>.</summary>
    public static void BuildBackward(BuiltNode forward, IReadOnlyList<Tensor?> outputGradients, IReadOnlyList<Tensor?> inputGradients)
    {
        if (forward.Operator is not IDifferentiable d)
            throw new NotSupportedException($"{forward.Node.OpType} (node '{forward.Node.Name}') has no backward pass; it cannot be " +
                $"trained through yet.");
        d.BuildBackward(new BackwardContext(forward.Context, outputGradients, inputGradients));
    }

    /// <summary>Whether the backward of <paramref name="node"/> can differentiate through <paramref name="activation"/> fused into
    /// it.</summary>
    public static bool DifferentiatesFused(Node node, FusedActivation activation) =>
        Operator(node) is IDifferentiable d && d.DifferentiatesFused(node, activation);

    /// <summary>Whether input <paramref name="index"/> of <paramref name="node"/> can receive a gradient (false without a
    /// backward).</summary>
    public static bool HasGradient(Node node, int index) => Operator(node) is IDifferentiable d && d.HasGradient(node, index);
}
