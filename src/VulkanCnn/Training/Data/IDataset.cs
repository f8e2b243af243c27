namespace VulkanCnn.Training.Data;

/// <summary>
/// Samples for training: a fixed per-sample shape (e.g. [1, 28, 28]) and an integer label in
/// [0, ClassCount). Implementations must be safe to read from a background prefetch thread.
/// The runtime keeps no image dependency: image folders live in VulkanCnn.Imaging.
/// </summary>
public interface IDataset
{
    int Count { get; }
    TensorShape SampleShape { get; }
    int ClassCount { get; }
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>Writes sample <paramref name="index"/> (normalised floats, CHW) into <paramref name="destination"/> and returns its
    /// label.</summary>
    int Read(int index, Span<float> destination);
}

/// <summary>A dataset is missing or malformed; names the file and says how to get it.</summary>
public sealed class DatasetException : Exception
{
    public DatasetException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary><c>count</c> samples of another dataset for quick trials, spread evenly over it (sample i is the source's
/// i · Count / count-th), so a dataset stored class by class (an image folder) keeps every class.</summary>
public sealed class SubsetDataset(IDataset source, int count) : IDataset
{
    public int Count { get; } = Math.Min(count, source.Count);
    public TensorShape SampleShape => source.SampleShape;
    public int ClassCount => source.ClassCount;
    public IReadOnlyList<string> ClassNames => source.ClassNames;
    public int Read(int index, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return source.Read((int)((long)index * source.Count / Count), destination);
    }
}
