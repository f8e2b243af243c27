namespace VulkanCnn;

/// <summary>Element type of a tensor. fp32 now; fp16 storage comes with the performance work.</summary>
public enum DataType
{
    Float32,
}

public static class DataTypeExtensions
{
    public static int SizeInBytes(this DataType type) => type switch
    {
        DataType.Float32 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown data type."),
    };
}
