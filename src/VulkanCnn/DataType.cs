using System.Runtime.InteropServices;

namespace VulkanCnn;

/// <summary>Element type of a GPU tensor. Host data is float32 either way: Float16 tensors convert on upload and download.</summary>
public enum DataType
{
    Float32,
    /// <summary>Indices and offsets that kernels read (Gather, TopK outputs are float for now).</summary>
    Int32,
    /// <summary>IEEE half: fp16 storage (<see cref="Compiler.SessionOptions.Precision"/>); kernels compute in fp32.</summary>
    Float16,
}

public static class DataTypeExtensions
{
    public static int SizeInBytes(this DataType type) => type switch
    {
        DataType.Float32 or DataType.Int32 => 4,
        DataType.Float16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown data type."),
    };

    /// <summary>The bytes of <paramref name="values"/> as stored in a tensor of <paramref name="type"/> (Float16: rounded to nearest
    /// even, out of range to ±infinity).</summary>
    internal static ReadOnlySpan<byte> Encode(this DataType type, ReadOnlySpan<float> values)
    {
        if (type != DataType.Float16) return MemoryMarshal.AsBytes(values);
        var half = new Half[values.Length];
        for (int i = 0; i < values.Length; i++) half[i] = (Half)values[i];
        return MemoryMarshal.AsBytes(half.AsSpan());
    }

    /// <summary>Reads <paramref name="destination"/>.Length values of <paramref name="type"/> from <paramref name="bytes"/>.</summary>
    internal static void Decode(this DataType type, ReadOnlySpan<byte> bytes, Span<float> destination)
    {
        if (type != DataType.Float16) { bytes[..(destination.Length * 4)].CopyTo(MemoryMarshal.AsBytes(destination)); return; }
        var half = MemoryMarshal.Cast<byte, Half>(bytes[..(destination.Length * 2)]);
        for (int i = 0; i < destination.Length; i++) destination[i] = (float)half[i];
    }
}
