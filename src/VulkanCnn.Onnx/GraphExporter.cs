using Google.Protobuf;
using Onnx;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using IrGraph = VulkanCnn.Ir.Graph;

namespace VulkanCnn.Onnx;

/// <summary>
/// IR graph → opset-17 GraphProto. Shapes come from the runtime operators' own inference.
/// Element types are tracked because ONNX is typed where the GPU is not (every GPU tensor is
/// float32, an int64 constant may feed Add): an input ONNX needs as int64 or bool, or as float
/// where the IR holds an integer, is converted — a converted initializer for a constant, a Cast
/// for a runtime value. Initializers are written only when a node or output reads them.
/// </summary>
internal sealed partial class GraphExporter
{
    internal const int Float = 1, Int64 = 7, Bool = 9;

    /// <summary>Attributes ONNX types as float / int, whatever numeric type the IR holds.</summary>
    private static readonly HashSet<string> FloatAttributes =
        ["alpha", "beta", "epsilon", "momentum", "bias", "ratio", "gamma", "lambd", "cubic_coeff_a", "extrapolation_value",
            "spatial_scale"];
    private static readonly HashSet<string> IntAttributes =
    [
        "axis", "keepdims", "group", "transA", "transB", "ceil_mode", "count_include_pad", "blocksize", "size", "select_last_index",
        "largest", "sorted", "allowzero", "to", "noop_with_empty_axes", "storage_order", "exclude_outside", "training_mode", "stash_type",
        "seed", "num_outputs", "k", "antialias",
    ];

    private readonly IrGraph _ir;
    private readonly OnnxExportOptions _options;
    private readonly GraphProto _g = new();
    private readonly Dictionary<string, TensorShape> _shapes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HostTensor> _consts = new(StringComparer.Ordinal);
    private readonly HashSet<string> _emitted = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Name, int Type), string> _converted = new();
    private readonly Dictionary<float, string> _scalars = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public GraphExporter(IrGraph graph, OnnxExportOptions options)
    {
        _ir = graph;
        _options = options;
    }

    public GraphProto Export()
    {
        var order = _ir.TopologicalOrder();
        var inputNames = _ir.Inputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var i in _ir.Inputs) { _shapes[i.Name] = i.Shape; _types[i.Name] = Float; }
        foreach (var (name, c) in _ir.Initializers)
        {
            if (inputNames.Contains(name)) continue; // an input's default: the input wins (written below)
            _consts[name] = c;
            _shapes[name] = c.Shape;
            _types[name] = c.IsInteger ? Int64 : Float;
        }
        _names.UnionWith(_shapes.Keys);
        foreach (var n in order) { _names.Add(n.Name); _names.UnionWith(n.Outputs); }
        InferShapes(order);

        _g.Name = _ir.Name;
        foreach (var n in order) Lower(n);

        foreach (var input in _ir.Inputs)
        {
            _g.Input.Add(ValueInfo(input.Name, Float, input.Shape));
            if (_ir.Initializers.TryGetValue(input.Name, out var defaultValue)) _g.Initializer.Add(ToTensor(input.Name, defaultValue,
                Float));
        }
        var outputs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var o in _ir.Outputs)
        {
            if (!outputs.Add(o)) continue;
            if (_consts.ContainsKey(o)) EmitInitializer(o);
            _g.Output.Add(ValueInfo(o, TypeOf(o), _shapes[o]));
        }
        if (_options.IntermediateShapes)
            foreach (var value in _g.Node.SelectMany(p => p.Output).Where(v => v.Length > 0
                && !outputs.Contains(v)).Distinct(StringComparer.Ordinal))
                if (_shapes.TryGetValue(value, out var shape)) _g.ValueInfo.Add(ValueInfo(value, TypeOf(value), shape));
        return _g;
    }

    /// <summary>Every value's shape, as the runtime's operators infer it (the exporter needs some to rewrite forms).</summary>
    private void InferShapes(IReadOnlyList<Node> order)
    {
        foreach (var n in order)
        {
            if (!OperatorRegistry.IsSupported(n.OpType) || !OnnxExporter.SupportedOpTypes.Contains(n.OpType))
                throw new OnnxExportException(n,
                    $"op type '{n.OpType}' cannot be exported; exportable: " +
                        $"{string.Join(", ", OnnxExporter.SupportedOpTypes.Order(StringComparer.Ordinal))}");
            var shapes = n.Inputs.Select(i => i.Length > 0 && _shapes.TryGetValue(i, out var s) ? s : null).ToList();
            var constants = n.Inputs.Select(i => i.Length > 0 && _consts.TryGetValue(i, out var c) ? c : null).ToList();
            var outShapes = ShapeInference.InferNode(n, shapes, constants);
            for (int k = 0; k < n.Outputs.Count && k < outShapes.Count; k++)
                if (n.Outputs[k].Length > 0) _shapes[n.Outputs[k]] = outShapes[k];
        }
    }

    /// <summary>Adds one ONNX node: inputs converted to the types the op needs, output types recorded, internal attributes
    /// dropped.</summary>
    private void AddNode(string opType, string name, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs,
        Attributes? attributes = null)
    {
        var p = new NodeProto { OpType = opType, Name = name };
        int inputCount = inputs.Count;
        while (inputCount > 0 && inputs[inputCount - 1].Length == 0) inputCount--;
        for (int i = 0; i < inputCount; i++) p.Input.Add(Coerce(inputs[i], RequiredType(opType, i)));
        int outputCount = outputs.Count;
        while (outputCount > 0 && outputs[outputCount - 1].Length == 0) outputCount--;
        for (int k = 0; k < outputCount; k++)
        {
            p.Output.Add(outputs[k]);
            if (outputs[k].Length > 0) _types[outputs[k]] = OutputType(opType, k, attributes);
        }
        if (attributes is not null)
            foreach (var key in attributes.Names)
                if (!key.StartsWith("vkcnn.", StringComparison.Ordinal)) p.Attribute.Add(ToAttribute(name, opType, key, attributes[key]!));
        _g.Node.Add(p);
    }

    /// <summary>The ONNX element type an op requires at an input position; null for any.</summary>
    private static int? RequiredType(string op, int index) => (op, index) switch
    {
        ("Cast", 0) => null,
        ("Reshape" or "Squeeze" or "Unsqueeze" or "Split" or "ReduceSum" or "Expand" or "TopK" or "Gather", 1) => Int64,
        ("Slice", >= 1) => Int64,
        ("Pad", 1 or 3) => Int64,
        ("Resize", 3) => Int64,
        ("Where", 0) or ("Dropout", 2) => Bool,
        _ => Float,
    };

    private static int OutputType(string op, int index, Attributes? a) => (op, index) switch
    {
        ("Cast", 0) => (int)a!.Int("to", Float),
        ("ArgMax" or "ArgMin", 0) or ("TopK", 1) => Int64,
        ("Dropout", 1) => Bool,
        _ => Float,
    };

    private int TypeOf(string value) => _types.GetValueOrDefault(value, Float);

    /// <summary>The value as <paramref name="type"/>: itself, a converted copy of a constant, or a Cast of a runtime value.</summary>
    private string Coerce(string value, int? type)
    {
        if (value.Length == 0) return value;
        if (type is not { } want || TypeOf(value) == want)
        {
            if (_consts.ContainsKey(value)) EmitInitializer(value);
            return value;
        }
        if (_converted.TryGetValue((value, want), out var done)) return done;
        string suffix = want switch { Int64 => "int64", Bool => "bool", _ => "float" };
        string converted;
        if (_consts.TryGetValue(value, out var c))
        {
            converted = Fresh($"{value}/{suffix}");
            _g.Initializer.Add(ToTensor(converted, c, want));
        }
        else
        {
            converted = Fresh($"{value}/cast_{suffix}");
            var cast = new NodeProto { OpType = "Cast", Name = Fresh($"{value}/cast_{suffix}_node") };
            cast.Input.Add(value);
            cast.Output.Add(converted);
            cast.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = want });
            _g.Node.Add(cast);
            if (_shapes.TryGetValue(value, out var shape)) _shapes[converted] = shape;
        }
        _types[converted] = want;
        _converted[(value, want)] = converted;
        return converted;
    }

    private void EmitInitializer(string name)
    {
        if (_emitted.Add(name)) _g.Initializer.Add(ToTensor(name, _consts[name], TypeOf(name)));
    }

    /// <summary>A constant made by the exporter (axes, pads, bounds …), written if a node reads it.</summary>
    private string Constant(string hint, HostTensor value)
    {
        string name = Fresh(hint);
        _consts[name] = value;
        _shapes[name] = value.Shape;
        _types[name] = value.IsInteger ? Int64 : Float;
        return name;
    }

    private string Ints(string hint, long[] values) => Constant(hint, HostTensor.FromInts(new TensorShape(values.Length), values));

    /// <summary>One shared scalar initializer per value (decompositions reuse 0.5, 1 …).</summary>
    private string Scalar(float value)
    {
        if (!_scalars.TryGetValue(value, out var name))
            _scalars[value] = name = Constant("const_" + value.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                HostTensor.Scalar(value));
        return name;
    }

    private string Fresh(string hint)
    {
        string name = hint;
        for (int i = 1; !_names.Add(name); i++) name = $"{hint}_{i}";
        return name;
    }

    private HostTensor? ConstantOf(string value) => value.Length > 0 ? _consts.GetValueOrDefault(value) : null;

    private static ValueInfoProto ValueInfo(string name, int type, TensorShape shape)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = type, Shape = new TensorShapeProto() };
        foreach (int d in shape) tensor.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }

    /// <summary>A constant as a raw_data (little-endian) tensor of <paramref name="type"/>: FLOAT, INT64 or BOOL.</summary>
    internal static TensorProto ToTensor(string name, HostTensor c, int type)
    {
        var t = new TensorProto { Name = name, DataType = type };
        foreach (int d in c.Shape) t.Dims.Add(d);
        byte[] bytes;
        switch (type)
        {
            case Float:
                var floats = c.AsFloats();
                bytes = new byte[floats.Length * 4];
                if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(floats.AsSpan()).CopyTo(bytes);
                else for (int i = 0; i < floats.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), floats[i]);
                break;
            case Int64:
                var ints = c.AsInts();
                bytes = new byte[ints.Length * 8];
                if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(ints.AsSpan()).CopyTo(bytes);
                else for (int i = 0; i < ints.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), ints[i]);
                break;
            case Bool:
                bytes = c.AsFloats().Select(v => v != 0 ? (byte)1 : (byte)0).ToArray();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "constants are written as FLOAT, INT64 or BOOL");
        }
        t.RawData = ByteString.CopyFrom(bytes);
        return t;
    }

    private AttributeProto ToAttribute(string node, string opType, string name, object value)
    {
        var a = new AttributeProto { Name = name };
        value = value switch
        {
            long l when FloatAttributes.Contains(name) => (float)l,
            float f when IntAttributes.Contains(name) && f == MathF.Round(f) => (long)f,
            _ => value,
        };
        switch (value)
        {
            case long l: a.Type = AttributeProto.Types.AttributeType.Int; a.I = l; break;
            case float f: a.Type = AttributeProto.Types.AttributeType.Float; a.F = f; break;
            case string s: a.Type = AttributeProto.Types.AttributeType.String; a.S = ByteString.CopyFromUtf8(s); break;
            case long[] ls: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(ls); break;
            case float[] fs: a.Type = AttributeProto.Types.AttributeType.Floats; a.Floats.AddRange(fs); break;
            case string[] ss:
                a.Type = AttributeProto.Types.AttributeType.Strings;
                a.Strings.AddRange(ss.Select(ByteString.CopyFromUtf8));
                break;
            case HostTensor t:
                a.Type = AttributeProto.Types.AttributeType.Tensor; a.T = ToTensor("", t, t.IsInteger ? Int64
                : Float); break;
            default:
                throw new OnnxExportException($"{opType} node '{node}': attribute '{name}' holds a {value.GetType().Name}, which " +
                $"has no ONNX attribute type");
        }
        return a;
    }
}
