namespace VulkanCnn.Ir;

/// <summary>A graph problem tied to one node: bad attribute, shape mismatch, missing input.</summary>
public class GraphException : Exception
{
    public GraphException(Node node, string message)
        : base($"{node.OpType} node '{node.Name}': {message}")
    {
        NodeName = node.Name;
        OpType = node.OpType;
    }

    public GraphException(string message) : base(message)
    {
        NodeName = "";
        OpType = "";
    }

    public string NodeName { get; }
    public string OpType { get; }
}

/// <summary>One or more nodes use operators or attributes the runtime does not support; raised before any GPU work.</summary>
public sealed class UnsupportedOperatorException : GraphException
{
    public UnsupportedOperatorException(IReadOnlyList<string> problems)
        : base($"The graph uses {problems.Count} unsupported operator(s)/attribute(s):\n  " + string.Join("\n  ", problems))
    {
        Problems = problems;
    }

    public IReadOnlyList<string> Problems { get; }
}
