using Google.Protobuf;
using Onnx;

namespace VulkanCnn.Tests.Onnx;

/// <summary>Builds small ONNX models with the protobuf types, for importer tests.</summary>
public static class OnnxModels
{
    public static ModelProto Model(long opset, GraphProto graph, long irVersion = 8)
    {
        var m = new ModelProto { IrVersion = irVersion, ProducerName = "vkcnn-tests", ProducerVersion = "1", Graph = graph };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return m;
    }

    public static GraphProto Net(IEnumerable<ValueInfoProto> inputs, IEnumerable<string> outputs, IEnumerable<NodeProto> nodes,
        IEnumerable<TensorProto>? initializers = null)
    {
        var g = new GraphProto { Name = "test" };
        g.Input.AddRange(inputs);
        g.Output.AddRange(outputs.Select(o => new ValueInfoProto { Name = o, Type = TensorType(1, null) }));
        g.Node.AddRange(nodes);
        if (initializers is not null) g.Initializer.AddRange(initializers);
        return g;
    }

    /// <summary>A float input; a dim is a long (value) or a string (dim_param).</summary>
    public static ValueInfoProto Input(string name, params object[] dims) => new() { Name = name, Type = TensorType(1, dims) };

    public static ValueInfoProto Input(string name, int elemType, params object[] dims) =>
        new() { Name = name, Type = TensorType(elemType, dims) };

    private static TypeProto TensorType(int elemType, object[]? dims)
    {
        var t = new TypeProto.Types.Tensor { ElemType = elemType };
        if (dims is not null)
        {
            t.Shape = new TensorShapeProto();
            foreach (var d in dims)
                t.Shape.Dim.Add(d is string p ? new TensorShapeProto.Types.Dimension { DimParam = p }
                    : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d) });
        }
        return new TypeProto { TensorType = t };
    }

    public static TensorProto Floats(string name, long[] dims, float[] data)
    {
        var t = new TensorProto
        {
            Name = name,
            DataType = 1,
            RawData = ByteString.CopyFrom(data.SelectMany(BitConverter.GetBytes).ToArray())
        };
        t.Dims.AddRange(dims);
        return t;
    }

    public static TensorProto Ints(string name, long[] dims, long[] data)
    {
        var t = new TensorProto { Name = name, DataType = 7 };
        t.Dims.AddRange(dims);
        t.Int64Data.AddRange(data);
        return t;
    }

    public static NodeProto Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var n = new NodeProto { OpType = op, Name = op.ToLowerInvariant() + "_" + outputs.FirstOrDefault() };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        n.Attribute.AddRange(attributes);
        return n;
    }

    public static AttributeProto Attr(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };
    public static AttributeProto Attr(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };
    public static AttributeProto Attr(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };
    public static AttributeProto Attr(string name, TensorProto value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = value };

    public static AttributeProto Attr(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Attr(string name, params float[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats };
        a.Floats.AddRange(values);
        return a;
    }

    /// <summary>Writes the model into a new temporary folder and returns the file's path.</summary>
    public static string Save(ModelProto model, string? folder = null)
    {
        folder ??= TempFolder();
        string path = Path.Combine(folder, "model.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    public static string TempFolder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "vkcnn-onnx-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>Conv 3→4 channels (3x3, pad 1) with bias, Relu, Flatten, Gemm to 5 classes, Softmax (opset 11, axis 1).</summary>
    public static ModelProto SmallCnn(long opset = 11)
    {
        var rng = new Random(5);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        return Model(opset, Net(
            [Input("x", "N", 3L, 6L, 5L)], ["y"],
            [
                Node("Conv", ["x", "w", "b"], ["c"], Attr("kernel_shape", 3L, 3L), Attr("pads", 1L, 1L, 1L, 1L)),
                Node("Relu", ["c"], ["r"]),
                Node("Flatten", ["r"], ["f"], Attr("axis", 1L)),
                Node("Gemm", ["f", "fc", "fb"], ["g"], Attr("transB", 1L)),
                Node("Softmax", ["g"], ["y"], Attr("axis", 1L)),
            ],
            [Floats("w", [4, 3, 3, 3], R(108)), Floats("b", [4], R(4)), Floats("fc", [5, 120], R(600)), Floats("fb", [5], R(5))]));
    }
}
