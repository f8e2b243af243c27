using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using IrGraph = VulkanCnn.Ir.Graph;

namespace VulkanCnn.Nn;

/// <summary>A symbolic value while building: its IR name and inferred shape.</summary>
public readonly record struct Value(string Name, TensorShape Shape)
{
    public override string ToString() => $"{Name} {Shape}";
}

/// <summary>
/// Builds an IR graph from modules and functional calls, inferring shapes as it goes so a
/// mistake is reported at the layer that makes it (naming the layer and both shapes).
/// </summary>
public sealed class GraphBuilder
{
    private readonly IrGraph _graph = new();
    private readonly Dictionary<string, TensorShape> _shapes = new(StringComparer.Ordinal);
    private readonly Stack<string> _scope = new();
    private int _counter;

    public GraphBuilder(string name = "model") => _graph.Name = name;

    public Value Input(string name, TensorShape shape)
    {
        _graph.Inputs.Add(new ValueInfo(name, shape));
        _shapes[name] = shape;
        return new Value(name, shape);
    }

    public void Output(Value value) => _graph.Outputs.Add(value.Name);

    public IrGraph Build() => _graph;

    /// <summary>Applies a module, naming its nodes after its place in the call tree.</summary>
    public Value Call(Module module, Value x)
    {
        _scope.Push(module.GetType().Name);
        try { return module.Forward(this, x); }
        finally { _scope.Pop(); }
    }

    /// <summary>Adds a parameter (named by its module path) as an initializer.</summary>
    public Value Parameter(Parameter p)
    {
        if (p.Name.Length == 0) throw new InvalidOperationException("Parameter has no name: build through Nn.Modules.ToGraph or call " +
            "StateDict() on the root module first.");
        _graph.Initializers[p.Name] = HostTensor.FromFloats(p.Shape, p.Data);
        _shapes[p.Name] = p.Shape;
        return new Value(p.Name, p.Shape);
    }

    /// <summary>Adds an int64 constant (shapes, axes).</summary>
    public Value Ints(params long[] values)
    {
        string name = Fresh("const");
        var c = HostTensor.FromInts(new TensorShape(values.Length), values);
        _graph.Initializers[name] = c;
        _shapes[name] = c.Shape;
        return new Value(name, c.Shape);
    }

    /// <summary>Adds a constant that is not a parameter (an imported graph's shapes, axes, fixed scales).</summary>
    public Value Constant(HostTensor value)
    {
        string name = Fresh("const");
        _graph.Initializers[name] = value;
        _shapes[name] = value.Shape;
        return new Value(name, value.Shape);
    }

    /// <summary>Adds a node and infers its output shape immediately.</summary>
    public Value Node(string opType, IReadOnlyList<Value?> inputs, Attributes? attributes = null)
    {
        var outputs = Nodes(opType, inputs, 1, attributes);
        return outputs[0];
    }

    public IReadOnlyList<Value> Nodes(string opType, IReadOnlyList<Value?> inputs, int outputCount, Attributes? attributes = null)
    {
        string name = Fresh(opType);
        var outputs = Enumerable.Range(0, outputCount).Select(i => outputCount == 1 ? name : $"{name}:{i}").ToList();
        var node = new Node(opType, name, inputs.Select(v => v?.Name ?? ""), outputs, attributes);
        if (!OperatorRegistry.TryGet(opType, out var op))
            throw new UnsupportedOperatorException([$"{opType} (node '{name}') is not implemented"]);
        var constants = node.Inputs.Select(i => i.Length > 0 && _graph.Initializers.TryGetValue(i, out var c) ? c : null).ToList();
        var shapes = op.InferShapes(new OpContext(node, inputs.Select(v => v?.Shape).ToList(), constants));
        _graph.Nodes.Add(node);
        return outputs.Select((o, i) => { _shapes[o] = shapes[i]; return new Value(o, shapes[i]); }).ToList();
    }

    // Functional forms for residual and branching nets.
    public Value Add(Value a, Value b) => Node("Add", [a, b]);
    public Value Mul(Value a, Value b) => Node("Mul", [a, b]);
    public Value Relu(Value x) => Node("Relu", [x]);
    public Value Concat(int axis, params Value[] values) =>
        Node("Concat", values.Select(v => (Value?)v).ToList(), new Attributes().Set("axis", axis));
    public Value Flatten(Value x, int axis = 1) => Node("Flatten", [x], new Attributes().Set("axis", axis));
    public Value Reshape(Value x, params long[] shape) => Node("Reshape", [x, Ints(shape)]);

    private string Fresh(string opType)
    {
        string prefix = _scope.Count > 0 ? string.Join("/", _scope.Reverse()) + "/" : "";
        return $"{prefix}{opType}_{_counter++}";
    }
}

/// <summary>Turning a module into a graph.</summary>
public static class Modules
{
    /// <summary>The IR graph of <paramref name="module"/> applied to one input named "input".</summary>
    public static IrGraph ToGraph(this Module module, TensorShape inputShape, string name = "model")
    {
        module.StateDict(); // names every parameter by its path
        var g = new GraphBuilder(name);
        var x = g.Input("input", inputShape);
        g.Output(g.Call(module, x));
        return g.Build();
    }
}
