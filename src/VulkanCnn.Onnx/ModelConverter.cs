using Onnx;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using IrGraph = VulkanCnn.Ir.Graph;

namespace VulkanCnn.Onnx;

/// <summary>
/// ModelProto → IR graph, in one walk over the nodes in dependency order: Constant nodes become
/// initializers, each node is normalised to the IR's form for the model's opset, shape
/// computations are folded on the CPU, and every other node's output shapes are inferred with
/// the runtime operators' own shape inference (so Shape of any value is known). Unsupported
/// nodes are collected, all of them, and reported in one exception.
/// </summary>
internal sealed partial class ModelConverter
{
    private readonly string _file;
    private readonly OnnxImportOptions _options;
    private readonly TensorReader _reader;
    private readonly Dictionary<string, CpuTensor> _consts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long[]> _shapes = new(StringComparer.Ordinal);
    /// <summary>Folded values computed from shapes or integers (Upsample scales are Div(Cast(sizes), Cast(Shape))): shape
    /// arithmetic, which folds here even where it passes through float.</summary>
    private readonly HashSet<string> _shapeDerived = new(StringComparer.Ordinal);
    /// <summary>Values of float arithmetic left to the runtime (which folds it through its operators), as the CPU computed
    /// them: only for import-time needs — a kept node's shape inference (Resize scales from Mul of two constants) and the
    /// import-only ops — never written into the graph.</summary>
    private readonly Dictionary<string, CpuTensor> _runtimeFolded = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly List<Node> _kept = new();
    private readonly List<string> _unsupported = new();
    private long _opset;

    public ModelConverter(string file, string? baseDirectory, OnnxImportOptions options)
    {
        _file = file;
        _options = options;
        _reader = new TensorReader(file, baseDirectory, options);
    }

    public IrGraph Convert(ModelProto model)
    {
        var g = model.Graph ?? throw Fail("the file has no graph: it is not an ONNX model");
        _opset = OnnxImporter.DefaultOpset(model);
        if (g.SparseInitializer.Count > 0) throw Fail("sparse initializers are not supported");

        foreach (var t in g.Initializer)
        {
            if (t.Name.Length == 0) throw Fail("an initializer has no name");
            if (_consts.ContainsKey(t.Name)) throw Fail("the initializer name is used twice", tensor: t.Name);
            _consts[t.Name] = _reader.Read(t);
        }
        var inputs = new List<ValueInfo>();
        foreach (var vi in g.Input)
        {
            // Bound inputs replace their values (an initializer listed as an input is its default).
            if (_options.ConstantInputs.TryGetValue(vi.Name, out var bound)) { _consts[vi.Name] = CpuTensor.FromConstant(bound); continue; }
            if (_consts.ContainsKey(vi.Name)) continue; // IR < 4 lists initializers as inputs too
            var dims = InputDims(vi);
            _shapes[vi.Name] = dims;
            inputs.Add(new ValueInfo(vi.Name, new TensorShape(dims.Select(d => (int)d).ToArray())));
        }
        foreach (var name in _options.ConstantInputs.Keys.Concat(_options.InputShapes.Keys))
            if (g.Input.All(i => i.Name != name))
                throw Fail($"the options name an input '{name}' the graph does not have; inputs: " +
                    $"{string.Join(", ", g.Input.Select(i => i.Name))}");

        var nodes = g.Node.Select(ToNode).ToList();
        foreach (var n in nodes) foreach (var i in n.Node.Inputs) _used.Add(i);
        foreach (var o in g.Output) _used.Add(o.Name);
        foreach (var n in nodes) { _names.UnionWith(n.Node.Outputs); _names.Add(n.Node.Name); }
        _names.UnionWith(_consts.Keys);
        _names.UnionWith(_shapes.Keys);

        foreach (var (node, domain) in Order(nodes))
        {
            if (domain is not ("" or "ai.onnx"))
            {
                _unsupported.Add($"{domain}.{node.OpType} (node '{node.Name}', domain {domain}) is not implemented: only the default " +
                    $"ONNX domain is");
                continue;
            }
            if (node.OpType == "Constant")
            {
                _consts[node.Outputs[0]] = ConstantValue(node);
                continue;
            }
            foreach (var n in Normalize(node)) Process(n);
        }
        if (_unsupported.Count > 0) throw new UnsupportedOperatorException(_unsupported);

        var ir = new IrGraph { Name = g.Name.Length > 0 ? g.Name : Path.GetFileNameWithoutExtension(_file) };
        ir.Inputs.AddRange(inputs);
        ir.Nodes.AddRange(_kept);
        foreach (var o in g.Output)
        {
            if (!_shapes.ContainsKey(o.Name) && !_consts.ContainsKey(o.Name))
                throw Fail($"graph output '{o.Name}' is not produced by any node, input or initializer");
            ir.Outputs.Add(o.Name);
        }
        var referenced = _kept.SelectMany(n => n.Inputs).Concat(ir.Outputs).Where(i => i.Length > 0).ToHashSet(StringComparer.Ordinal);
        foreach (var name in referenced)
            if (_consts.TryGetValue(name, out var c))
                ir.Initializers[name] = c.ToConstant() ?? throw Fail($"the tensor's dims {c} exceed the runtime's int range", tensor: name);
        return ir;
    }

    /// <summary>Folds the node on the CPU when it can, else keeps it for the runtime and infers its output shapes.</summary>
    private void Process(Node n)
    {
        bool importOnly = CpuFolding.ImportOnly.Contains(n.OpType);
        bool allKnown = n.Inputs.Where(i => i.Length > 0).All(i => _consts.ContainsKey(i) || _runtimeFolded.ContainsKey(i));
        bool anyRuntime = n.Inputs.Any(i => i.Length > 0 && !_consts.ContainsKey(i) && _runtimeFolded.ContainsKey(i));
        bool shapeOnly = n.OpType is "Shape" or "Size" && n.HasInput(0) && _shapes.ContainsKey(n.Inputs[0]);
        if (CpuFolding.Ops.Contains(n.OpType) && (allKnown || shapeOnly) && n.Inputs.Any(i => i.Length > 0))
        {
            try
            {
                var inputs = n.Inputs.Select(i => i.Length == 0 ? null : _consts.TryGetValue(i, out var c) ? c
                    : _runtimeFolded.GetValueOrDefault(i)).ToList();
                var outputs = CpuFolding.Evaluate(n, inputs, shapeOnly ? _shapes[n.Inputs[0]] : null, _options.MaxFoldedElements);
                // The split: shape arithmetic (anything computed from a shape or an integer) and exact data movement fold
                // here; arithmetic on float data goes through the runtime's own operators (Passes/FoldConstants), its CPU
                // value kept aside only for what import itself needs (shape inference, import-only ops).
                bool fromShapes = shapeOnly || outputs.Any(t => t.IsInteger)
                    || n.Inputs.Where((i, k) => i.Length > 0 && (inputs[k]!.IsInteger || _shapeDerived.Contains(i))).Any();
                bool toRuntime = !fromShapes && !importOnly && (anyRuntime || CpuFolding.Arithmetic.Contains(n.OpType));
                for (int k = 0; k < outputs.Length && k < n.Outputs.Count; k++)
                {
                    if (n.Outputs[k].Length == 0) continue;
                    if (toRuntime) { _runtimeFolded[n.Outputs[k]] = outputs[k]; continue; }
                    _consts[n.Outputs[k]] = outputs[k];
                    if (fromShapes) _shapeDerived.Add(n.Outputs[k]);
                }
                if (!toRuntime) return;
            }
            catch (CpuFolding.CannotFold e) when (!CpuFolding.ImportOnly.Contains(n.OpType))
            {
                _options.Log?.Invoke($"{n.OpType} node '{n.Name}' left to the runtime: {e.Message}");
            }
            catch (CpuFolding.CannotFold e)
            {
                _unsupported.Add($"{n.OpType} (node '{n.Name}', opset {_opset}): {e.Message}");
                return;
            }
            catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or InvalidCastException or OverflowException)
            {
                throw Fail($"{n.OpType} cannot be evaluated on its constant inputs: {e.Message}", node: n.Name);
            }
        }
        if (!OperatorRegistry.IsSupported(n.OpType))
        {
            _unsupported.Add(CpuFolding.ImportOnly.Contains(n.OpType)
                ? $"{n.OpType} (node '{n.Name}', opset {_opset}) depends on runtime data; it is only supported on constants (folded at " +
                    $"import)"
                : $"{n.OpType} (node '{n.Name}', opset {_opset}) is not implemented");
            return;
        }
        // An empty constant in an optional slot (Resize's roi/scales, Pad's axes …) means "omitted" to the IR;
        // the inputs of a variadic op are data, where an empty part is a real (empty) tensor.
        for (int i = 1; i < n.Inputs.Count && !VariadicData.Contains(n.OpType); i++)
            if (_consts.TryGetValue(n.Inputs[i], out var c) && c.IsEmpty) n.Inputs[i] = "";
        _kept.Add(n);

        var shapes = new List<TensorShape?>();
        var constants = new List<HostTensor?>();
        foreach (var input in n.Inputs)
        {
            if (input.Length == 0) { shapes.Add(null); constants.Add(null); continue; }
            if (_consts.TryGetValue(input, out var c) || _runtimeFolded.TryGetValue(input, out c))
            {
                var constant = c.ToConstant();
                if (constant is null)
                {
                    _unsupported.Add($"{n.OpType} (node '{n.Name}', opset {_opset}): input '{input}' has dims {c} beyond the runtime's " +
                        $"int range");
                    return;
                }
                shapes.Add(constant.Shape);
                constants.Add(constant);
            }
            else if (_shapes.TryGetValue(input, out var dims))
            {
                shapes.Add(new TensorShape(dims.Select(d => (int)d).ToArray()));
                constants.Add(null);
            }
            else return; // downstream of an unsupported node: its problem is already listed
        }
        IReadOnlyList<TensorShape> outShapes;
        try { outShapes = ShapeInference.InferNode(n, shapes, constants); }
        catch (UnsupportedAttributeException e)
        {
            _unsupported.Add($"{e.Message} (opset {_opset})");
            return;
        }
        catch (GraphException e) { throw Fail(e.Message, node: n.Name); }
        catch (Exception e) when (e is ArgumentException or OverflowException or IndexOutOfRangeException)
        {
            throw Fail($"{n.OpType}: {e.Message}", node: n.Name);
        }
        for (int k = 0; k < n.Outputs.Count && k < outShapes.Count; k++)
            if (n.Outputs[k].Length > 0) _shapes[n.Outputs[k]] = outShapes[k].Dimensions.ToArray().Select(d => (long)d).ToArray();
    }

    private static readonly HashSet<string> VariadicData = ["Concat", "Sum", "Mean", "Max", "Min"];

    private long[] InputDims(ValueInfoProto vi)
    {
        if (_options.InputShapes.TryGetValue(vi.Name, out var given))
        {
            if (given.Any(d => d < 0))
                throw Fail($"the shape given for input '{vi.Name}' [{string.Join(", ", given)}] has a negative dimension");
            return given.Select(d => (long)d).ToArray();
        }
        var tensor = vi.Type?.TensorType
            ?? throw Fail($"graph input '{vi.Name}' is not a tensor (sequences, maps and optionals are not supported)");
        var shape = tensor.Shape ?? throw Fail($"graph input '{vi.Name}' declares no shape; give it in OnnxImportOptions.InputShapes");
        var dims = new long[shape.Dim.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            var d = shape.Dim[i];
            if (d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue)
            {
                if (d.DimValue < 0 || d.DimValue > int.MaxValue)
                    throw Fail($"graph input '{vi.Name}' has dimension {i} = {d.DimValue}; dimensions must be in [0, {int.MaxValue}] (0 " +
                        $"makes an empty tensor)");
                dims[i] = d.DimValue;
                continue;
            }
            string param = d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? d.DimParam : "";
            if (param.Length > 0 && _options.DimParams.TryGetValue(param, out int value)) dims[i] = value;
            else if (i == 0 && _options.BatchSize is { } batch) dims[i] = batch;
            else if (_options.DefaultUnknownDimsToOne)
            {
                dims[i] = 1;
                _options.Log?.Invoke($"input '{vi.Name}': dimension {i} ({(param.Length > 0 ? $"'{param}'" : "unknown")}) set to 1; " +
                    $"give OnnxImportOptions.DimParams, BatchSize or InputShapes to choose");
            }
            else throw Fail($"graph input '{vi.Name}' has symbolic dimension {i} ({(param.Length > 0 ? param : "unknown")}) with no " +
                $"value; give OnnxImportOptions.DimParams, BatchSize or InputShapes");
            if (dims[i] < 0) throw Fail($"graph input '{vi.Name}': dimension {i} was given as {dims[i]}; it cannot be negative");
        }
        return dims;
    }

    private (Node Node, string Domain) ToNode(NodeProto p, int index)
    {
        string name = p.Name.Length > 0 ? p.Name : $"{p.OpType}_{index}";
        var attributes = new Attributes();
        foreach (var a in p.Attribute)
        {
            if (a.Name.Length == 0) throw Fail("an attribute has no name", node: name);
            if (a.T is not null
                && (a.Type == AttributeProto.Types.AttributeType.Tensor || a.Type == AttributeProto.Types.AttributeType.Undefined))
            {
                // Constant's tensor is kept whole (it may be empty or rank 0); other ops get the IR's form.
                var t = _reader.Read(a.T, $"{name}.{a.Name}");
                attributes.Set(a.Name, p.OpType == "Constant" ? t : (object?)t.ToConstant() ?? t);
                continue;
            }
            if (AttributeValue(a) is { } v) attributes.Set(a.Name, v);
        }
        return (new Node(p.OpType, name, p.Input, p.Output, attributes), p.Domain);
    }

    private static object? AttributeValue(AttributeProto a)
    {
        var type = a.Type;
        if (type == AttributeProto.Types.AttributeType.Undefined) // IR < 3 left the type out: infer it from the field set
            type = a.Ints.Count > 0 ? AttributeProto.Types.AttributeType.Ints : a.Floats.Count > 0
                ? AttributeProto.Types.AttributeType.Floats
                : a.Strings.Count > 0 ? AttributeProto.Types.AttributeType.Strings : !a.S.IsEmpty
                    ? AttributeProto.Types.AttributeType.String
                : a.F != 0 ? AttributeProto.Types.AttributeType.Float : AttributeProto.Types.AttributeType.Int;
        return type switch
        {
            AttributeProto.Types.AttributeType.Float => a.F,
            AttributeProto.Types.AttributeType.Int => a.I,
            AttributeProto.Types.AttributeType.String => a.S.ToStringUtf8(),
            AttributeProto.Types.AttributeType.Floats => a.Floats.ToArray(),
            AttributeProto.Types.AttributeType.Ints => a.Ints.ToArray(),
            AttributeProto.Types.AttributeType.Strings => a.Strings.Select(s => s.ToStringUtf8()).ToArray(),
            _ => null, // graphs, sparse tensors, type protos: no IR op takes them
        };
    }

    private CpuTensor ConstantValue(Node n)
    {
        var a = n.Attributes;
        try
        {
            if (a["value"] is CpuTensor t) return t;
            if (a.Has("value_float")) return CpuTensor.Of([], [a.Float("value_float", 0)]);
            if (a.Has("value_floats")) { var f = a.Floats("value_floats")!; return CpuTensor.Of([f.Length], f); }
            if (a.Has("value_int")) return CpuTensor.Of([], [a.Int("value_int", 0)]);
            if (a.Has("value_ints")) { var i = a.Ints("value_ints")!; return CpuTensor.Of([i.Length], i); }
        }
        catch (InvalidCastException e) { throw Fail(e.Message, node: n.Name); }
        if (a.Has("value_string") || a.Has("value_strings")) throw Fail("string constants are not supported", node: n.Name);
        throw Fail("Constant has no value (sparse_value is not supported)", node: n.Name);
    }

    /// <summary>Nodes in dependency order; a cycle, a dangling input or a value produced twice is an error naming the node.</summary>
    private List<(Node, string)> Order(List<(Node Node, string Domain)> nodes)
    {
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 0; k < nodes.Count; k++)
            foreach (var o in nodes[k].Node.Outputs)
                if (o.Length > 0 && !producer.TryAdd(o, k))
                    throw Fail($"output '{o}' is also produced by node '{nodes[producer[o]].Node.Name}'", node: nodes[k].Node.Name);
        var state = new byte[nodes.Count];
        var order = new List<(Node, string)>();
        var stack = new Stack<(int Node, int Next)>();
        for (int root = 0; root < nodes.Count; root++)
        {
            if (state[root] != 0) continue;
            stack.Push((root, 0));
            state[root] = 1;
            while (stack.Count > 0) // iterative: a deep chain must not overflow the call stack
            {
                var (k, next) = stack.Pop();
                var inputs = nodes[k].Node.Inputs;
                if (next < inputs.Count)
                {
                    stack.Push((k, next + 1));
                    string input = inputs[next];
                    if (input.Length == 0 || _consts.ContainsKey(input) || _shapes.ContainsKey(input)) continue;
                    if (!producer.TryGetValue(input, out int p))
                        throw Fail($"input '{input}' is not produced by any node, graph input or initializer", node: nodes[k].Node.Name);
                    if (state[p] == 1) throw Fail($"the graph has a cycle through input '{input}'", node: nodes[k].Node.Name);
                    if (state[p] == 0) { state[p] = 1; stack.Push((p, 0)); }
                    continue;
                }
                state[k] = 2;
                order.Add(nodes[k]);
            }
        }
        return order;
    }

    private string Fresh(string hint)
    {
        string name = hint;
        for (int i = 1; !_names.Add(name); i++) name = $"{hint}_{i}";
        return name;
    }

    private OnnxImportException Fail(string message, string? tensor = null, string? node = null) => new(_file, message, tensor, node);
}
