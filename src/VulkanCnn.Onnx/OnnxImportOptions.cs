using VulkanCnn.Graph;

namespace VulkanCnn.Onnx;

/// <summary>How a model is imported. Input shapes are fixed at import: shape computations are folded for them.</summary>
public sealed record OnnxImportOptions
{
    /// <summary>Full shapes for named graph inputs, replacing the declared ones.</summary>
    public IReadOnlyDictionary<string, int[]> InputShapes { get; init; } = new Dictionary<string, int[]>();

    /// <summary>Value of the first dimension of every graph input when it is symbolic or unknown (the batch size).</summary>
    public int? BatchSize { get; init; }

    /// <summary>Values for symbolic dimensions (dim_param) by name, e.g. { ["batch"] = 8 }.</summary>
    public IReadOnlyDictionary<string, int> DimParams { get; init; } = new Dictionary<string, int>();

    /// <summary>Graph inputs bound to constants at import (shape tensors, indices, masks): they become initializers.</summary>
    public IReadOnlyDictionary<string, ConstantTensor> ConstantInputs { get; init; } = new Dictionary<string, ConstantTensor>();

    /// <summary>A symbolic dimension with no value given becomes 1 (with a note) instead of an error.</summary>
    public bool DefaultUnknownDimsToOne { get; init; } = true;

    /// <summary>Largest tensor (bytes, as float32/int64 in memory) the importer will allocate.</summary>
    public long MaxTensorBytes { get; init; } = 2L << 30;

    /// <summary>Largest result (elements) of a CPU shape computation folded at import.</summary>
    public long MaxFoldedElements { get; init; } = 1 << 20;

    /// <summary>Notes about choices the importer made (a symbolic dim set to 1, an attribute ignored).</summary>
    public Action<string>? Log { get; init; }
}
