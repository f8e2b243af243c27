using VulkanCnn.Ir;

namespace VulkanCnn.Ops;

/// <summary>Identity: the output is the input. The compiler removes it; run alone it is a
/// zero-copy view. (Dropout, identity at inference, has its own file for its training kernels.)</summary>
internal sealed class Identity : IOperator, IDifferentiable
{
    public IReadOnlyList<string> OpTypes { get; } = ["Identity"];

    public OperatorTraits Traits(Node node) => OperatorTraits.Identity | OperatorTraits.View;

    public IReadOnlyList<TensorShape> InferShapes(OpContext context) => [context.InputShape(0)];

    public void Build(OpBuildContext context) { }

    public bool HasGradient(Node node, int inputIndex) => inputIndex == 0;

    /// <summary>dX += dY (as every view).</summary>
    public void BuildBackward(BackwardContext context) => Reshape.AddGradient(context);
}
