using VulkanCnn.Compiler;
using VulkanCnn.Ir;

namespace VulkanCnn.Onnx;

/// <summary>
/// A tensor the importer holds on the CPU: initializers, Constant values and the results of
/// folded shape computations. It may be empty (a zero dim) or of rank 0. Values are float32 or int64 (every integer and bool type widens to
/// int64).
/// </summary>
internal sealed class CpuTensor
{
    public CpuTensor(long[] dims, float[]? floats, long[]? ints)
    {
        Dims = dims;
        Floats = floats;
        Ints = ints;
        long n = floats?.LongLength ?? ints!.LongLength;
        if (n != Count(dims)) throw new ArgumentException($"{n} values for dims [{string.Join(", ", dims)}]");
    }

    public static CpuTensor Of(long[] dims, float[] data) => new(dims, data, null);
    public static CpuTensor Of(long[] dims, long[] data) => new(dims, null, data);
    public static CpuTensor FromConstant(HostTensor c) =>
        new(c.Shape.Dimensions.ToArray().Select(d => (long)d).ToArray(), c.Floats, c.Ints);

    public long[] Dims { get; }
    public float[]? Floats { get; }
    public long[]? Ints { get; }
    public bool IsInteger => Ints is not null;
    public int Rank => Dims.Length;
    public long Length => Floats?.LongLength ?? Ints!.LongLength;
    public bool IsEmpty => Length == 0;

    public double this[long i] => Ints is { } a ? a[i] : Floats![i];

    public long[] AsInts() => Ints ?? Floats!.Select(v => (long)v).ToArray();
    public float[] AsFloats() => Floats ?? Ints!.Select(v => (float)v).ToArray();
    public double[] AsDoubles() => Ints is { } a ? a.Select(v => (double)v).ToArray() : Floats!.Select(v => (double)v).ToArray();

    /// <summary>The IR form (empty when a dim is zero); null when a dim is beyond the IR's int range.</summary>
    public HostTensor? ToConstant()
    {
        if (Dims.Any(d => d > int.MaxValue)) return null;
        var shape = new TensorShape(Dims.Select(d => (int)d).ToArray());
        return Ints is { } ints ? HostTensor.FromInts(shape, ints) : HostTensor.FromFloats(shape, Floats!);
    }

    public static long Count(IEnumerable<long> dims)
    {
        long n = 1;
        foreach (long d in dims) n = checked(n * d);
        return n;
    }

    public override string ToString() => $"[{string.Join(", ", Dims)}] {(IsInteger ? "int64" : "float32")}";
}
