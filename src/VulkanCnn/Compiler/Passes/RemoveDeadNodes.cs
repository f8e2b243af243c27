using VulkanCnn.Ir;
namespace VulkanCnn.Compiler.Passes;

/// <summary>Removes nodes whose outputs never reach a graph output, and unused initializers.</summary>
internal static class RemoveDeadNodes
{
    public static int Run(Graph graph)
    {
        var producer = GraphEdit.Producers(graph);
        var live = new HashSet<Node>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        var work = new Stack<string>(graph.Outputs);
        while (work.Count > 0)
        {
            string v = work.Pop();
            if (!used.Add(v)) continue;
            if (producer.TryGetValue(v, out var n) && live.Add(n))
                foreach (var i in n.Inputs)
                    if (i.Length > 0) work.Push(i);
        }
        int removed = graph.Nodes.RemoveAll(n => !live.Contains(n));
        foreach (var name in graph.Initializers.Keys.Where(k => !used.Contains(k)).ToList()) graph.Initializers.Remove(name);
        return removed;
    }
}
