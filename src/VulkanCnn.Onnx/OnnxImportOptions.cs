using VulkanCnn.Compiler;
using VulkanCnn.Ir;

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
    public IReadOnlyDictionary<string, HostTensor> ConstantInputs { get; init; } = new Dictionary<string, HostTensor>();

    /// <summary>A symbolic dimension with no value given becomes 1 (with a note) instead of an error.</summary>
    public bool DefaultUnknownDimsToOne { get; init; } = true;

    /// <summary>Largest tensor (bytes, as float32/int64 in memory) the importer will allocate.</summary>
    public long MaxTensorBytes { get; init; } = 2L << 30;

    /// <summary>Largest result (elements) of a CPU shape computation folded at import.</summary>
    public long MaxFoldedElements { get; init; } = 1 << 20;

    /// <summary>Resize with coordinate_transformation_mode align_corners and scales: which resized length the mapping
    /// divides by. Default <see cref="AlignCornersLength.OutputLength"/>, as ONNX Runtime and PyTorch (what PyTorch exports
    /// of <c>interpolate(scale_factor=…, align_corners=True)</c> mean); <see cref="AlignCornersLength.ScaledLength"/> follows the
    /// ONNX reference implementation and conformance data. They differ only when length·scale is not a whole number.</summary>
    public AlignCornersLength AlignCornersLength { get; init; } = AlignCornersLength.OutputLength;

    /// <summary>Notes about choices the importer made (a symbolic dim set to 1, an attribute ignored).</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>The resized length in Resize's align_corners mapping, x_in = x_out·(length_in − 1)/(length_resized − 1).</summary>
public enum AlignCornersLength
{
    /// <summary>The output length, floor(length_in·scale): ONNX Runtime and PyTorch.</summary>
    OutputLength,
    /// <summary>length_in·scale itself: the ONNX reference implementation (onnx/onnx#2462).</summary>
    ScaledLength,
}
