using VulkanCnn.Ir;
using IrGraph = VulkanCnn.Ir.Graph;

namespace VulkanCnn.Nn;

/// <summary>
/// An imported graph (an ONNX model) as a trainable module: every float initializer a node reads as a weight, bias or
/// normalisation parameter becomes a <see cref="Parameter"/> named as in the graph (for PyTorch exports, the state_dict name),
/// BatchNormalization's running statistics become buffers (no gradient), and everything else (int64 shapes and axes, other
/// constants) stays a constant. <see cref="Forward"/> replays the graph's nodes on the module's input, so the trainer
/// differentiates the whole network; freeze a part with <see cref="FreezePrefix"/>, or append a head with <see cref="Sequential"/>.
/// </summary>
public sealed class GraphModule : Module
{
    private readonly IrGraph _graph;
    private readonly Dictionary<string, Parameter> _parameters = new(StringComparer.Ordinal);
    private readonly HashSet<string> _buffers;
    private readonly List<Node> _order;
    private readonly string _input, _output;

    /// <param name="graph">The graph; it is copied, so later changes to it do not reach the module.</param>
    /// <param name="output">The graph output to return (default: the first), e.g. the features before a classifier.</param>
    public GraphModule(IrGraph graph, string? output = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        _graph = graph.Clone();
        var inputs = _graph.Inputs.Where(i => !_graph.Initializers.ContainsKey(i.Name)).ToList();
        if (inputs.Count != 1)
            throw new ArgumentException($"Graph '{graph.Name}' has {inputs.Count} inputs; a GraphModule takes exactly one.", nameof(graph));
        _input = inputs[0].Name;
        _output = output ?? _graph.Outputs.FirstOrDefault() ?? throw new ArgumentException($"Graph '{graph.Name}' has no output.",
            nameof(graph));
        if (!_graph.Outputs.Contains(_output) && !_graph.Nodes.Any(n => n.Outputs.Contains(_output)))
            throw new ArgumentException($"Graph '{graph.Name}' computes no value named '{_output}'.", nameof(output));
        // Only what the output needs: a featurizer's classifier (or a pool that no longer fits the input size) is left out.
        var producer = _graph.Nodes.SelectMany(n => n.Outputs.Where(o => o.Length > 0).Select(o => (o, n)))
            .ToDictionary(p => p.o, p => p.n, StringComparer.Ordinal);
        var needed = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<string>([_output]);
        while (pending.TryPop(out var value))
            if (producer.TryGetValue(value, out var node) && needed.Add(node))
                foreach (var input in node.Inputs.Where(i => i.Length > 0)) pending.Push(input);
        _order = _graph.TopologicalOrder().Where(needed.Contains).ToList();
        _buffers = _order.Where(n => n.OpType == "BatchNormalization").SelectMany(n => n.Inputs.Skip(3).Take(2))
            .ToHashSet(StringComparer.Ordinal);
        foreach (var node in _order)
            for (int i = 0; i < node.Inputs.Count; i++)
            {
                string name = node.Inputs[i];
                if (!IsTrainable(node, i) || _parameters.ContainsKey(name) || !_graph.Initializers.TryGetValue(name, out var c)
                    || c.Floats is null) continue;
                var parameter = new Parameter(c.Shape, (float[])c.Floats.Clone()) { RequiresGrad = !_buffers.Contains(name) };
                _parameters[name] = RegisterParameter(name, parameter);
            }
    }

    /// <summary>The graph's parameters and buffers by name.</summary>
    public IReadOnlyDictionary<string, Parameter> Parameters => _parameters;

    /// <summary>Freezes (or unfreezes) the parameters whose name starts with <paramref name="prefix"/> ("" for all); running
    /// statistics stay buffers either way. Returns how many parameters changed.</summary>
    public int FreezePrefix(string prefix, bool frozen = true)
    {
        int changed = 0;
        foreach (var (name, p) in _parameters)
            if (name.StartsWith(prefix, StringComparison.Ordinal) && !_buffers.Contains(name) && p.RequiresGrad == frozen)
            {
                p.RequiresGrad = !frozen;
                changed++;
            }
        return changed;
    }

    /// <summary>Keeps every BatchNormalization normalising with its running statistics, and leaves them alone, while the rest
    /// trains (or, with false, back to batch statistics in training). Returns how many nodes changed.</summary>
    public int FreezeBatchNorm(bool frozen = true)
    {
        int changed = 0;
        foreach (var node in _order.Where(n => n.OpType == "BatchNormalization"))
        {
            bool was = node.Attributes.Int(Ops.BatchNormalization.FrozenStatisticsAttribute, 0) != 0;
            if (was == frozen) continue;
            if (frozen) node.Attributes.Set(Ops.BatchNormalization.FrozenStatisticsAttribute, 1L);
            else node.Attributes.Remove(Ops.BatchNormalization.FrozenStatisticsAttribute);
            changed++;
        }
        return changed;
    }

    public override Value Forward(GraphBuilder g, Value x)
    {
        var values = new Dictionary<string, Value>(StringComparer.Ordinal) { [_input] = x };
        Value? Resolve(string name)
        {
            if (name.Length == 0) return null;
            if (values.TryGetValue(name, out var v)) return v;
            v = _parameters.TryGetValue(name, out var p) ? g.Parameter(p)
                : _graph.Initializers.TryGetValue(name, out var c) ? g.Constant(c)
                : throw new GraphException($"Graph '{_graph.Name}': value '{name}' has no producer.");
            return values[name] = v;
        }
        foreach (var node in _order)
        {
            var inputs = node.Inputs.Select(Resolve).ToList();
            var outputs = g.Nodes(node.OpType, inputs, node.Outputs.Count, node.Attributes.Clone());
            for (int k = 0; k < node.Outputs.Count; k++)
                if (node.Outputs[k].Length > 0) values[node.Outputs[k]] = outputs[k];
        }
        return Resolve(_output) ?? throw new GraphException($"Graph '{_graph.Name}' computes no '{_output}'.");
    }

    /// <summary>The inputs that hold learned values: a conv's or linear layer's weight and bias, a normalisation's scale, bias
    /// and statistics, PRelu's slope; not data inputs, shapes or indices.</summary>
    private static bool IsTrainable(Node node, int input) => node.OpType switch
    {
        "Conv" or "ConvTranspose" or "Gemm" => input is 1 or 2,
        "MatMul" => input == 1,
        "BatchNormalization" => input is >= 1 and <= 4,
        "InstanceNormalization" or "LayerNormalization" => input is 1 or 2,
        "PRelu" => input == 1,
        _ => false,
    };
}
