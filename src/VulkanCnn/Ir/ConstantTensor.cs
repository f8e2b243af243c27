namespace VulkanCnn.Ir;

/// <summary>
/// A value known when the graph is compiled: weights (float) or shape-like data (int64, e.g.
/// Reshape's shape, Slice's starts). GPU tensors are float32; int64 constants are read by
/// operators at build time and never bound as they are.
/// </summary>
public sealed class ConstantTensor
{
    private ConstantTensor(TensorShape shape, float[]? floats, long[]? ints)
    {
        Shape = shape;
        Floats = floats;
        Ints = ints;
        long n = floats?.LongLength ?? ints!.LongLength;
        if (n != shape.ElementCount)
            throw new ArgumentException($"Constant of shape {shape} needs {shape.ElementCount} values, got {n}.");
    }

    public static ConstantTensor FromFloats(TensorShape shape, float[] data) => new(shape, data, null);
    public static ConstantTensor FromInts(TensorShape shape, long[] data) => new(shape, null, data);
    public static ConstantTensor Scalar(float value) => new(new TensorShape(), [value], null);

    public TensorShape Shape { get; }
    /// <summary>Float data, or null for an int64 constant.</summary>
    public float[]? Floats { get; }
    /// <summary>Int64 data, or null for a float constant.</summary>
    public long[]? Ints { get; }
    public bool IsInteger => Ints is not null;

    /// <summary>Values as float (int64 converted).</summary>
    public float[] AsFloats() => Floats ?? Ints!.Select(v => (float)v).ToArray();

    /// <summary>Values as int64 (floats truncated toward zero).</summary>
    public long[] AsInts() => Ints ?? Floats!.Select(v => (long)v).ToArray();

    public override string ToString() => $"Constant {Shape} {(IsInteger ? "int64" : "float32")}";
}
