namespace VulkanCnn;

/// <summary>Element type of a tensor. fp32 now; fp16 storage comes with the performance work.</summary>
public enum DataType
{
    Float32,
    /// <summary>Indices and offsets that kernels read (Gather, TopK outputs are float for now).</summary>
    Int32,
}

public static class DataTypeExtensions
{
    public static int SizeInBytes(this DataType type) => type switch
    {
        DataType.Float32 or DataType.Int32 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown data type."),
    };
}
