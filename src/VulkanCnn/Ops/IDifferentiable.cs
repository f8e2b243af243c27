using VulkanCnn.Ir;

namespace VulkanCnn.Ops;

/// <summary>
/// An operator that can be trained through: it records the kernels of its backward pass next
/// to its forward one (same file, shaders named <c>&lt;op&gt;_backward_*.comp</c>).
/// </summary>
internal interface IDifferentiable
{
    /// <summary>Whether input <paramref name="inputIndex"/> of <paramref name="node"/> can receive a gradient
    /// (Conv: X, W, B; Reshape's shape input: no).</summary>
    bool HasGradient(Node node, int inputIndex);

    /// <summary>
    /// Records kernels that ADD dL/dX_i into <see cref="BackwardContext.InputGradient"/> for every
    /// requested input, from dL/dY (<see cref="BackwardContext.OutputGradient"/>) and the saved forward
    /// tensors. Gradient buffers are zeroed once per step by the trainer and then accumulate, so a
    /// value read by several nodes sums their contributions. Deterministic: every gradient element
    /// is written by exactly one invocation per kernel (no floating-point atomics).
    /// </summary>
    void BuildBackward(BackwardContext context);

    /// <summary>Whether <see cref="BuildBackward"/> can differentiate through <paramref name="activation"/> fused into
    /// <paramref name="node"/> (the trainer fuses only what the producer can); none by default.</summary>
    bool DifferentiatesFused(Node node, FusedActivation activation) => false;
}
