using VulkanCnn.Ir;
namespace VulkanCnn.Compiler.Passes;

/// <summary>Helpers shared by the passes: who consumes a value, and rewiring its uses.</summary>
internal static class GraphEdit
{
    /// <summary><paramref name="name"/>, or name.1, name.2 … : the first no initializer of the graph has.</summary>
    public static string FreshInitializer(Graph graph, string name)
    {
        string candidate = name;
        for (int i = 1; graph.Initializers.ContainsKey(candidate); i++) candidate = $"{name}.{i}";
        return candidate;
    }

    /// <summary>The node that writes each (non-empty) value.</summary>
    public static Dictionary<string, Node> Producers(Graph graph)
    {
        var map = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var n in graph.Nodes)
            foreach (var o in n.Outputs)
                if (o.Length > 0) map[o] = n;
        return map;
    }

    public static Dictionary<string, List<Node>> Consumers(Graph graph)
    {
        var map = new Dictionary<string, List<Node>>(StringComparer.Ordinal);
        foreach (var n in graph.Nodes)
            foreach (var i in n.Inputs)
                if (i.Length > 0)
                {
                    if (!map.TryGetValue(i, out var list)) map[i] = list = new List<Node>();
                    if (!list.Contains(n)) list.Add(n);
                }
        return map;
    }

    /// <summary>Makes every consumer (and the graph outputs) read <paramref name="to"/> instead of <paramref name="from"/>.</summary>
    public static void Replace(Graph graph, string from, string to)
    {
        foreach (var n in graph.Nodes)
            for (int i = 0; i < n.Inputs.Count; i++)
                if (n.Inputs[i] == from) n.Inputs[i] = to;
        for (int i = 0; i < graph.Outputs.Count; i++)
            if (graph.Outputs[i] == from) graph.Outputs[i] = to;
    }

    public static int UseCount(Graph graph, Dictionary<string, List<Node>> consumers, string value) =>
        (consumers.TryGetValue(value, out var c) ? c.Count : 0) + graph.Outputs.Count(o => o == value);
}
