using VulkanCnn.Ir;

namespace VulkanCnn.Compiler;

/// <summary>Shapes of a graph's values without compiling it for a device.</summary>
public static class ShapeInference
{
    /// <summary>Every value's shape, inputs as declared (errors name the node and both shapes); for the trainer and
    /// reports such as <c>vkcnn info</c>.</summary>
    public static IReadOnlyDictionary<string, TensorShape> Infer(Graph graph) => CompiledGraph.InferShapes(graph, graph.TopologicalOrder());
}
