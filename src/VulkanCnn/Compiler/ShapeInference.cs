using VulkanCnn.Ir;

namespace VulkanCnn.Compiler;

/// <summary>Shapes of a graph's values without compiling it for a device.</summary>
public static class ShapeInference
{
    /// <summary>Every value's shape, inputs as declared (errors name the node and both shapes); for the trainer and
    /// reports such as <c>vkcnn info</c>.</summary>
    public static IReadOnlyDictionary<string, TensorShape> Infer(Graph graph) => CompiledGraph.InferShapes(graph, graph.TopologicalOrder());

    /// <summary>One node's output shapes from its input shapes (null: omitted) and constant inputs: <see cref="GraphException"/>
    /// naming the node on a mismatch, <see cref="Ops.UnsupportedAttributeException"/> for what the runtime does not implement,
    /// <see cref="UnsupportedOperatorException"/> for an op type it does not know.</summary>
    public static IReadOnlyList<TensorShape> InferNode(Node node, IReadOnlyList<TensorShape?> inputShapes,
        IReadOnlyList<HostTensor?> constants) =>
        Ops.NodeKernels.InferShapes(node, inputShapes, constants);
}
