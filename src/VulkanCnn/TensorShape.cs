using System.Collections;
using System.Runtime.CompilerServices;

namespace VulkanCnn;

/// <summary>An immutable list of dimensions, outermost first (NCHW for images). A zero dimension
/// makes an empty tensor (ONNX allows them): the runtime gives it no buffer and no kernels.
/// Collection expressions work: <c>TensorShape s = [1, 3, 224, 224];</c></summary>
[CollectionBuilder(typeof(TensorShape), nameof(Create))]
public sealed class TensorShape : IEquatable<TensorShape>, IReadOnlyList<int>
{
    private readonly int[] _dims;

    public TensorShape(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        for (int i = 0; i < dims.Length; i++)
            if (dims[i] < 0)
                throw new ArgumentException($"Dimension {i} of shape [{string.Join(", ", dims)}] is {dims[i]}; dimensions cannot be " +
                    $"negative.", nameof(dims));
        _dims = (int[])dims.Clone();
        long count = 1;
        foreach (int d in _dims) count = checked(count * d);
        ElementCount = count;
    }

    public int Rank => _dims.Length;
    public long ElementCount { get; }
    /// <summary>True when a dimension is zero: the tensor holds no values.</summary>
    public bool IsEmpty => ElementCount == 0;
    public int this[int axis] => _dims[axis < 0 ? axis + _dims.Length : axis];
    public ReadOnlySpan<int> Dimensions => _dims;

    public static implicit operator TensorShape(int[] dims) => new(dims);
    public static TensorShape Create(ReadOnlySpan<int> dims) => new(dims.ToArray());

    int IReadOnlyCollection<int>.Count => _dims.Length;
    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)_dims).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Equals(TensorShape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);
    public override bool Equals(object? obj) => Equals(obj as TensorShape);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in _dims) h.Add(d);
        return h.ToHashCode();
    }
    public static bool operator ==(TensorShape? a, TensorShape? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(TensorShape? a, TensorShape? b) => !(a == b);

    public override string ToString() => $"[{string.Join(", ", _dims)}]";
}
