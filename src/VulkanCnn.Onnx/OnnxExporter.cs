using Google.Protobuf;
using Onnx;
using System.Reflection;
using VulkanCnn.Ops;
using IrGraph = VulkanCnn.Ir.Graph;

namespace VulkanCnn.Onnx;

/// <summary>
/// Writes a VulkanCnn graph (built with the nn API, imported, or a session's optimised graph) as
/// an ONNX model: opset 17 (IR version 8), float32/int64 initializers as raw_data, inputs and
/// outputs with their shapes. The IR's forms of other opsets are rewritten to opset 17's, Silu
/// becomes Sigmoid + Mul, fused activations become nodes again, and "vkcnn." attributes are
/// dropped. Everything is converted before the file is touched, and the file is replaced
/// atomically, so a failed export leaves an existing file as it was.
/// </summary>
public static class OnnxExporter
{
    /// <summary>The ai.onnx opset written.</summary>
    public const long Opset = 17;

    /// <summary>The ONNX IR version that goes with <see cref="Opset"/>.</summary>
    public const long IrVersion = 8;

    /// <summary>The IR op types the exporter writes (every runtime operator).</summary>
    /// <summary>Every runtime operator except the training losses (MseLoss is VulkanCnn-only, and the
    /// loss of a training graph is not part of the exported model).</summary>
    public static IReadOnlyCollection<string> SupportedOpTypes =>
        OperatorRegistry.OpTypes.Where(op => op is not ("MseLoss" or "SoftmaxCrossEntropyLoss")).ToList();

    /// <summary>Exports <paramref name="graph"/> to <paramref name="path"/> (written to a temporary file in the same folder, then renamed
    /// over it).</summary>
    public static void Save(IrGraph graph, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes = ToModel(graph, options).ToByteArray();
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no folder.", nameof(path));
        string temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>The ONNX model of <paramref name="graph"/>; throws <see cref="OnnxExportException"/> for what opset 17 cannot
    /// express.</summary>
    public static ModelProto ToModel(IrGraph graph, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        options ??= new OnnxExportOptions();
        if (graph.Inputs.Count == 0) throw new OnnxExportException($"Graph '{graph.Name}' has no inputs.");
        if (graph.Outputs.Count == 0) throw new OnnxExportException($"Graph '{graph.Name}' has no outputs.");
        string version = typeof(OnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?
            .InformationalVersion.Split('+')[0]
            ?? typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "";
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "VulkanCnn",
            ProducerVersion = version,
            ModelVersion = options.ModelVersion,
            DocString = options.DocString ?? $"Graph '{graph.Name}' exported by VulkanCnn {version} (ONNX opset {Opset}).",
            Graph = new GraphExporter(graph, options).Export(),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (key, value) in options.Metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        if (model.CalculateSize() is var size && size < 0)
            throw new OnnxExportException($"Graph '{graph.Name}' is over the 2 GiB protobuf limit; external data is not written.");
        return model;
    }
}
