namespace VulkanCnn.Onnx;

/// <summary>How <see cref="OnnxExporter"/> writes a model.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>The model's doc_string (default: names VulkanCnn and the graph).</summary>
    public string? DocString { get; init; }

    /// <summary>ModelProto.model_version.</summary>
    public long ModelVersion { get; init; }

    /// <summary>Key/value pairs written as metadata_props (e.g. labels, preprocessing).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>Declare every intermediate value's type and shape (value_info), as inferred by the runtime's operators.</summary>
    public bool IntermediateShapes { get; init; } = true;
}
