using Google.Protobuf;
using Onnx;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using IrGraph = VulkanCnn.Ir.Graph;

namespace VulkanCnn.Onnx;

/// <summary>
/// Loads ONNX models (opsets 7–21; older ones where their forms are known) into the VulkanCnn
/// graph IR. Input shapes are fixed at import (declared dims, or <see cref="OnnxImportOptions"/>):
/// shape computations are folded for them, older opset forms are rewritten to the IR's, and
/// every unsupported node is reported at once, before any GPU work.
/// </summary>
public static class OnnxImporter
{
    /// <summary>The protobuf limit: no valid model file is larger.</summary>
    public const long MaxFileBytes = int.MaxValue;

    public const long OldestOpset = 7, NewestOpset = 21;

    public static IrGraph Load(string path, OnnxImportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var model = ReadModel(ReadFile(path), path);
        return Convert(model, path, Path.GetDirectoryName(Path.GetFullPath(path)), options);
    }

    /// <summary>Loads from a stream; external data is read relative to <paramref name="baseDirectory"/> (refused when null).</summary>
    public static IrGraph Load(Stream stream, string? baseDirectory = null, OnnxImportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        const string file = "<stream>";
        if (stream.CanSeek && stream.Length - stream.Position > MaxFileBytes)
            throw new OnnxImportException(file, $"the stream holds {stream.Length - stream.Position} bytes, over the 2 GiB protobuf limit");
        using var copy = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            if (copy.Length + read > MaxFileBytes) throw new OnnxImportException(file, "the stream is over the 2 GiB protobuf limit");
            copy.Write(buffer, 0, read);
        }
        return Convert(ReadModel(copy.ToArray(), file), file, baseDirectory, options);
    }

    /// <summary>Reads a model's declared interface and statistics without importing (or checking) its graph.</summary>
    public static OnnxModelInfo Inspect(string path)
    {
        var model = ReadHeader(ReadFile(path), path);
        var g = model.Graph;
        var initializers = g.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var histogram = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var n in g.Node)
        {
            string key = n.Domain is "" or "ai.onnx" ? n.OpType : $"{n.Domain}.{n.OpType}";
            histogram[key] = histogram.GetValueOrDefault(key) + 1;
        }
        long parameters = 0;
        foreach (var t in g.Initializer)
        {
            long count = 1;
            foreach (long d in t.Dims) count = d < 0 ? 0 : count > long.MaxValue / Math.Max(d, 1) ? long.MaxValue : count * d;
            parameters = count > long.MaxValue - parameters ? long.MaxValue : parameters + count;
        }
        var unsupported = histogram.Keys.Where(op => op.Contains('.') || !Supports(op)).ToList();
        return new OnnxModelInfo(path, model.IrVersion,
            (model.ProducerName + " " + model.ProducerVersion).Trim(), g.Name,
            model.OpsetImport.GroupBy(o => o.Domain).ToDictionary(o => o.Key, o => o.Max(v => v.Version)),
            g.Input.Where(i => !initializers.Contains(i.Name)).Select(Describe).ToList(),
            g.Output.Select(Describe).ToList(), histogram, parameters, g.Initializer.Count, unsupported);
    }

    /// <summary>
    /// True when the importer handles the (default-domain) op type: a runtime operator, Constant,
    /// a shape computation folded at import (Shape, Range, ConstantOfShape … on constants only),
    /// or a reduction rewritten to ReduceSum (ReduceSumSquare, ReduceL1, ReduceL2).
    /// </summary>
    public static bool Supports(string opType) =>
        opType == "Constant" || Ops.OperatorRegistry.IsSupported(opType) || CpuFolding.Ops.Contains(opType)
            || ModelConverter.ReduceNorms.Contains(opType);

    /// <summary>Reads a serialized TensorProto (the test-data .pb files) as a constant.</summary>
    public static HostTensor LoadTensor(string path)
    {
        var tensor = ReadTensorProto(ReadFile(path), path);
        var value = new TensorReader(path, Path.GetDirectoryName(Path.GetFullPath(path)), new OnnxImportOptions()).Read(tensor);
        return value.ToConstant()
            ?? throw new OnnxImportException(path, $"the tensor's dims {value} exceed the runtime's int range", tensor: tensor.Name);
    }

    internal static TensorProto ReadTensorProto(byte[] bytes, string file)
    {
        try { return TensorProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e) { throw new OnnxImportException(file, $"not a valid TensorProto: {e.Message}", inner: e); }
    }

    internal static long DefaultOpset(ModelProto model)
    {
        var entry = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(-1).Max();
        return entry < 0 ? 1 : entry; // IR version 1-2 files carry no opset_import: opset 1
    }

    internal static byte[] ReadFile(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new OnnxImportException(path, "the file does not exist");
            if (info.Length > MaxFileBytes) throw new OnnxImportException(path,
                $"the file is {info.Length} bytes, over the 2 GiB protobuf limit (large models keep weights in external data)");
            return File.ReadAllBytes(path);
        }
        catch (IOException e) { throw new OnnxImportException(path, $"cannot be read: {e.Message}", inner: e); }
        catch (UnauthorizedAccessException e) { throw new OnnxImportException(path, $"cannot be read: {e.Message}", inner: e); }
    }

    internal static ModelProto ReadModel(byte[] bytes, string file)
    {
        if (bytes.Length == 0) throw new OnnxImportException(file, "the file is empty");
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxImportException(file, $"not a valid ONNX model (truncated, or not a protobuf ModelProto): {e.Message}", inner: e);
        }
        if (model.Graph is null || (model.IrVersion <= 0 && model.OpsetImport.Count == 0))
            throw new OnnxImportException(file, "not an ONNX model: it parses as protobuf but has no graph or IR version");
        return model;
    }

    /// <summary>The model without its tensor data (<see cref="OnnxHeaderReader"/>), with ReadModel's checks.</summary>
    private static ModelProto ReadHeader(byte[] bytes, string file)
    {
        if (bytes.Length == 0) throw new OnnxImportException(file, "the file is empty");
        ModelProto model;
        try { model = OnnxHeaderReader.Read(bytes); }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidDataException)
        {
            throw new OnnxImportException(file, $"not a valid ONNX model (truncated, or not a protobuf ModelProto): {e.Message}", inner: e);
        }
        if (model.Graph is null || (model.IrVersion <= 0 && model.OpsetImport.Count == 0))
            throw new OnnxImportException(file, "not an ONNX model: it parses as protobuf but has no graph or IR version");
        return model;
    }

    private static IrGraph Convert(ModelProto model, string file, string? baseDirectory, OnnxImportOptions? options)
    {
        options ??= new OnnxImportOptions();
        long opset = DefaultOpset(model);
        if (opset < OldestOpset) options.Log?.Invoke($"{file}: opset {opset} is older than {OldestOpset}; its known legacy forms are " +
            $"rewritten");
        if (opset > NewestOpset) options.Log?.Invoke($"{file}: opset {opset} is newer than {NewestOpset}; operators are read with " +
            $"opset-{NewestOpset} semantics");
        return new ModelConverter(file, baseDirectory, options).Convert(model);
    }

    private static OnnxValueInfo Describe(ValueInfoProto v)
    {
        var t = v.Type?.TensorType;
        if (t is null) return new OnnxValueInfo(v.Name, v.Type?.ValueCase.ToString() ?? "unknown", []);
        var dims = t.Shape?.Dim.Select(d => d.ValueCase switch
        {
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => d.DimValue.ToString(),
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => d.DimParam,
            _ => "?",
        }).ToList() ?? ["?"];
        return new OnnxValueInfo(v.Name, TensorReader.TypeName(t.ElemType), dims);
    }
}
