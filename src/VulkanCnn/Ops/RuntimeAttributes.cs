namespace VulkanCnn.Ops;

/// <summary>Node attributes the runtime reads that are not ONNX's (importers set them, exporters drop them).</summary>
public static class RuntimeAttributes
{
    /// <summary>Resize: set (1) by the importer under <c>OnnxImportOptions.AlignCornersLength = ScaledLength</c> for the ONNX
    /// reference's align_corners mapping; the exporter drops it (that mapping is what ONNX itself specifies).</summary>
    public const string ResizeScaledAlignCorners = "vkcnn_align_corners_scaled_length";

    /// <summary>Any operator with kernel variants: the variant to use (<see cref="VariantSelector.Attribute"/>).</summary>
    public const string Variant = VariantSelector.Attribute;
}
