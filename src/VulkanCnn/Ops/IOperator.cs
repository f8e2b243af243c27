using VulkanCnn.Ir;

namespace VulkanCnn.Ops;

/// <summary>What the graph compiler may do with a node of an operator (queried, never type-switched).</summary>
[Flags]
internal enum OperatorTraits
{
    None = 0,
    /// <summary>Output 0 is input 0 with another shape (Reshape, Flatten …): no kernel, no copy.</summary>
    View = 1,
    /// <summary>Applies a fused activation (vkcnn.activation attributes) to its output.</summary>
    AcceptsFusedActivation = 2,
    /// <summary>A pointwise activation that can be folded into a producer that accepts one.</summary>
    IsActivation = 4,
    /// <summary>Computes nothing at inference (Identity, Dropout): removed by the compiler.</summary>
    Identity = 8,
    /// <summary>Its kernels have fp16-storage builds and keep every float input and output as data (no indices or counts a half
    /// would round): a session asked for fp16 stores the node's tensors in half.</summary>
    Fp16Storage = 16,
}

/// <summary>
/// An IR operator: shape inference plus the kernels that compute it. One implementation per
/// file under Ops/, with a same-named shader family under shaders/. A class may serve several
/// closely related ONNX op types (e.g. every pointwise activation).
/// </summary>
internal interface IOperator
{
    /// <summary>ONNX op types this class implements.</summary>
    IReadOnlyList<string> OpTypes { get; }

    OperatorTraits Traits(Node node);

    /// <summary>Output shapes from input shapes (and constant inputs). Throws <see cref="GraphException"/>
    /// naming the node and both shapes on a mismatch, <see cref="UnsupportedAttributeException"/> for what is not supported.</summary>
    IReadOnlyList<TensorShape> InferShapes(OpContext context);

    /// <summary>Creates pipelines, weights and bound kernels. Called once per compiled shape, never on the hot path.</summary>
    void Build(OpBuildContext context);

    /// <summary>The inputs that hold one item per sample along axis 0 (where their leading dimension is the batch; others are
    /// broadcast to every sample), when each sample's outputs depend on that sample alone; null when the node mixes samples.
    /// The compiler then may run it on the batch in pieces (<see cref="Compiler.Passes.SplitOversizedActivations"/>).</summary>
    IReadOnlyList<int>? PerSampleInputs(Node node) => null;
}

/// <summary>A zero-copy op whose values sit at element offsets of another value (a batch piece inside its whole): no kernel.</summary>
internal interface IPlacedView
{
    /// <summary>Each part value, the value it lies in and its first element there.</summary>
    IEnumerable<(string Part, string Whole, long ElementOffset)> Placements(Node node, IReadOnlyDictionary<string, TensorShape> shapes);
}

/// <summary>An attribute value or combination the runtime does not implement; collected for every node before GPU work.</summary>
public sealed class UnsupportedAttributeException : GraphException
{
    public UnsupportedAttributeException(Node node, string message) : base(node, message) { }
}
