namespace VulkanCnn.Ir;

/// <summary>A declared graph input or output: name and shape (batch may be overridden at compile time).</summary>
public sealed record ValueInfo(string Name, TensorShape Shape);

/// <summary>
/// The IR: nodes in any order (sorted at compile time), named values, constant initializers.
/// Both the nn builder API and the ONNX importer produce it.
/// </summary>
public sealed class Graph
{
    public List<ValueInfo> Inputs { get; } = new();
    public List<string> Outputs { get; } = new();
    public List<Node> Nodes { get; } = new();
    public Dictionary<string, HostTensor> Initializers { get; } = new(StringComparer.Ordinal);
    public string Name { get; set; } = "graph";

    public Graph Clone()
    {
        var g = new Graph { Name = Name };
        g.Inputs.AddRange(Inputs);
        g.Outputs.AddRange(Outputs);
        g.Nodes.AddRange(Nodes.Select(n => n.Clone()));
        foreach (var (k, v) in Initializers) g.Initializers[k] = v;
        return g;
    }

    /// <summary>Nodes ordered so each comes after the producers of its inputs; a cycle or a missing value is an error.</summary>
    public IReadOnlyList<Node> TopologicalOrder()
    {
        var producer = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var n in Nodes)
            foreach (var o in n.Outputs)
                if (o.Length > 0 && !producer.TryAdd(o, n))
                    throw new GraphException(n, $"output '{o}' is also produced by '{producer[o].Name}'");
        var known = new HashSet<string>(Inputs.Select(i => i.Name).Concat(Initializers.Keys), StringComparer.Ordinal);
        var state = new Dictionary<Node, int>();
        var order = new List<Node>();
        void Visit(Node n, Stack<Node> path)
        {
            if (state.TryGetValue(n, out int s))
            {
                if (s == 1) throw new GraphException(n,
                    "the graph has a cycle through " + string.Join(" -> ", path.Reverse().Select(p => p.Name)));
                return;
            }
            state[n] = 1;
            path.Push(n);
            foreach (var input in n.Inputs)
            {
                if (input.Length == 0 || known.Contains(input)) continue;
                if (!producer.TryGetValue(input, out var p)) throw new GraphException(n,
                    $"input '{input}' is not produced by any node, input or initializer");
                Visit(p, path);
            }
            path.Pop();
            state[n] = 2;
            order.Add(n);
        }
        foreach (var n in Nodes) Visit(n, new Stack<Node>());
        foreach (var o in Outputs)
            if (!known.Contains(o)
                && !producer.ContainsKey(o)) throw new GraphException($"Graph output '{o}' is not produced by any node.");
        return order;
    }
}
