using VulkanCnn.Graph;

namespace VulkanCnn.Ops;

/// <summary>Identity and Dropout (inference): the output is the input. The compiler removes them;
/// run alone they are a zero-copy view. Dropout's optional mask output is not supported.</summary>
public sealed class Identity : IOperator
{
    public IReadOnlyList<string> OpTypes { get; } = ["Identity", "Dropout"];

    public OperatorTraits Traits(Node node) => OperatorTraits.Identity | OperatorTraits.View;

    public IReadOnlyList<TensorShape> InferShapes(OpContext context)
    {
        if (context.Node.Outputs.Count > 1 && context.Node.Outputs[1].Length > 0)
            throw context.Unsupported("Dropout's mask output is not supported at inference");
        if (context.Node.OpType == "Dropout" && context.Int("training_mode", 0) != 0)
            throw context.Unsupported("Dropout with training_mode=1 is not an inference op");
        return [context.InputShape(0)];
    }

    public void Build(OpBuildContext context) { }
}
