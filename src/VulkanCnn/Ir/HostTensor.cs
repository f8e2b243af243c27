namespace VulkanCnn.Ir;

/// <summary>
/// A tensor in host memory: the weights and shape-like constants of a graph (float, or int64 for
/// Reshape's shape, Slice's starts …), and the inputs and outputs a session takes and returns.
/// GPU tensors are float32; int64 values are read by operators at build time and never bound as they are.
/// </summary>
public sealed class HostTensor
{
    private HostTensor(TensorShape shape, float[]? floats, long[]? ints)
    {
        Shape = shape;
        Floats = floats;
        Ints = ints;
        long n = floats?.LongLength ?? ints!.LongLength;
        if (n != shape.ElementCount)
            throw new ArgumentException($"Constant of shape {shape} needs {shape.ElementCount} values, got {n}.");
    }

    public static HostTensor FromFloats(TensorShape shape, float[] data) => new(shape, data, null);
    public static HostTensor FromInts(TensorShape shape, long[] data) => new(shape, null, data);
    public static HostTensor Scalar(float value) => new(new TensorShape(), [value], null);

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
