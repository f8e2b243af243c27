using VulkanCnn.Ir;
using VulkanCnn.Ops;

namespace VulkanCnn.Compiler.Passes;

/// <summary>Where every float value of a compiled graph lives: each node's storage and each value's element type.</summary>
internal sealed class StoragePlan
{
    public static readonly StoragePlan AllFp32 = new(new Dictionary<Node, DataType>(ReferenceEqualityComparer.Instance),
        new Dictionary<string, DataType>(StringComparer.Ordinal), []);

    internal StoragePlan(IReadOnlyDictionary<Node, DataType> nodes, IReadOnlyDictionary<string, DataType> values,
        IReadOnlyList<StorageFallback> fallbacks)
    {
        _nodes = nodes; _values = values; Fallbacks = fallbacks;
    }

    private readonly IReadOnlyDictionary<Node, DataType> _nodes;
    private readonly IReadOnlyDictionary<string, DataType> _values;

    /// <summary>Nodes that asked for fp16 but stay fp32, with the reason.</summary>
    public IReadOnlyList<StorageFallback> Fallbacks { get; }
    /// <summary>Nodes whose tensors are stored in fp16.</summary>
    public int Fp16Nodes => _nodes.Values.Count(t => t == DataType.Float16);

    public DataType Of(Node node) => _nodes.GetValueOrDefault(node, DataType.Float32);

    /// <summary>This plan with batch pieces stored as the node or value they are a piece of.</summary>
    public StoragePlan WithPieces(IReadOnlyDictionary<Node, Node> nodeOrigin, IReadOnlyDictionary<string, string> valueOrigin)
    {
        var nodes = new Dictionary<Node, DataType>(_nodes, ReferenceEqualityComparer.Instance);
        var values = new Dictionary<string, DataType>(_values, StringComparer.Ordinal);
        foreach (var (piece, origin) in nodeOrigin)
            if (_nodes.TryGetValue(origin, out var type)) nodes[piece] = type;
        foreach (var (piece, origin) in valueOrigin)
            if (_values.TryGetValue(origin, out var type)) values[piece] = type;
        return new StoragePlan(nodes, values, Fallbacks);
    }
    public DataType Of(string value) => _values.GetValueOrDefault(value, DataType.Float32);
}

/// <summary>
/// Stores in fp16 every node whose operator has an fp16 kernel (<see cref="OperatorTraits.Fp16Storage"/>) unless
/// <c>keepFp32</c> gives a reason not to, and inserts a Cast (to FLOAT16 or FLOAT) wherever a value crosses between the two:
/// graph inputs and outputs stay fp32 (the host reads and writes float), views follow their source, a float initializer
/// read by fp16 and fp32 nodes alike is uploaded once per storage. Runs last, on the shaped graph.
/// </summary>
internal static class AssignStorage
{
    public static StoragePlan Run(Graph graph, Dictionary<string, TensorShape> shapes, Func<Node, string?> keepFp32)
    {
        var nodes = new Dictionary<Node, DataType>(ReferenceEqualityComparer.Instance);
        var values = new Dictionary<string, DataType>(StringComparer.Ordinal);
        var fallbacks = new List<StorageFallback>();
        var casts = new Dictionary<(string, DataType), string>();
        var added = new List<Node>();
        var initializerUse = new Dictionary<string, HashSet<DataType>>(StringComparer.Ordinal);
        var order = graph.TopologicalOrder();

        DataType TypeOf(string v) => values.GetValueOrDefault(v, DataType.Float32);
        string Converted(string value, DataType to)
        {
            if (casts.TryGetValue((value, to), out var name)) return name;
            name = FreshValue(graph, shapes, $"{value}.{(to == DataType.Float16 ? "f16" : "f32")}");
            var cast = new Node("Cast", FreshNode(graph, added, $"{value}.to_{(to == DataType.Float16 ? "f16" : "f32")}"), [value], [name],
                new Attributes().Set("to", to == DataType.Float16 ? 10L : 1L));
            added.Add(cast); // a boundary: its kernel follows its tensors' types, and it counts as neither storage
            values[name] = to;
            shapes[name] = shapes[value];
            return casts[(value, to)] = name;
        }

        foreach (var node in order)
        {
            var op = NodeKernels.Operator(node);
            var traits = op.Traits(node);
            DataType storage;
            if (traits.HasFlag(OperatorTraits.View)) storage = node.HasInput(0) ? TypeOf(node.Inputs[0]) : DataType.Float32;
            else if (!traits.HasFlag(OperatorTraits.Fp16Storage))
            {
                storage = DataType.Float32;
                fallbacks.Add(new StorageFallback(node.Name, node.OpType, "no fp16 kernel"));
            }
            else if (keepFp32(node) is { } reason)
            {
                storage = DataType.Float32;
                fallbacks.Add(new StorageFallback(node.Name, node.OpType, reason));
            }
            else storage = DataType.Float16;
            nodes[node] = storage;
            for (int i = 0; i < node.Inputs.Count; i++)
            {
                string input = node.Inputs[i];
                if (input.Length == 0 || shapes.GetValueOrDefault(input)?.IsEmpty != false) continue;
                if (graph.Initializers.TryGetValue(input, out var constant))
                {
                    if (constant.Floats is not null && !traits.HasFlag(OperatorTraits.View))
                    {
                        if (!initializerUse.TryGetValue(input, out var use)) initializerUse[input] = use = [];
                        use.Add(storage);
                    }
                    continue;
                }
                if (!traits.HasFlag(OperatorTraits.View) && TypeOf(input) != storage) node.Inputs[i] = Converted(input, storage);
            }
            if (storage == DataType.Float16)
                foreach (var o in node.Outputs)
                    if (o.Length > 0) values[o] = DataType.Float16;
        }

        // A float initializer read only by fp16 nodes is uploaded as half; one read by both gets an fp16 copy for the fp16 readers.
        foreach (var (name, use) in initializerUse)
        {
            if (!use.Contains(DataType.Float16)) continue;
            if (!use.Contains(DataType.Float32)) { values[name] = DataType.Float16; continue; }
            string copy = GraphEdit.FreshInitializer(graph, name + ".f16");
            graph.Initializers[copy] = graph.Initializers[name];
            shapes[copy] = shapes[name];
            values[copy] = DataType.Float16;
            foreach (var node in order.Where(n => nodes[n] == DataType.Float16))
                for (int i = 0; i < node.Inputs.Count; i++)
                    if (node.Inputs[i] == name) node.Inputs[i] = copy;
        }

        // The host reads graph outputs as float: an fp16 output is renamed and converted back under its own name.
        for (int k = 0; k < graph.Outputs.Count; k++)
        {
            string output = graph.Outputs[k];
            if (TypeOf(output) != DataType.Float16 || graph.Initializers.ContainsKey(output)) continue;
            string half = FreshValue(graph, shapes, output + ".f16");
            foreach (var node in order.Concat(added))
            {
                for (int i = 0; i < node.Inputs.Count; i++) if (node.Inputs[i] == output) node.Inputs[i] = half;
                for (int i = 0; i < node.Outputs.Count; i++) if (node.Outputs[i] == output) node.Outputs[i] = half;
            }
            shapes[half] = shapes[output];
            values[half] = DataType.Float16;
            values.Remove(output);
            var cast = new Node("Cast", FreshNode(graph, added, output + ".to_f32"), [half], [output], new Attributes().Set("to", 1L));
            added.Add(cast);
        }
        graph.Nodes.AddRange(added);
        return new StoragePlan(nodes, values, fallbacks);
    }

    private static string FreshValue(Graph graph, Dictionary<string, TensorShape> shapes, string name)
    {
        string candidate = name;
        for (int i = 1; shapes.ContainsKey(candidate) || graph.Initializers.ContainsKey(candidate); i++) candidate = $"{name}.{i}";
        return candidate;
    }

    private static string FreshNode(Graph graph, List<Node> added, string name)
    {
        string candidate = name;
        for (int i = 1; graph.Nodes.Concat(added).Any(n => n.Name == candidate); i++) candidate = $"{name}.{i}"; // runs once per Cast
        return candidate;
    }
}
