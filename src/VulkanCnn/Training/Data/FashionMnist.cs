using System.Buffers.Binary;
using System.IO.Compression;

namespace VulkanCnn.Training.Data;

/// <summary>
/// Fashion-MNIST from IDX files (gzip or plain), as shipped by Debian's dataset-fashion-mnist in
/// /usr/share/datasets/fashion-mnist. Pixels are scaled to [0, 1] then normalised with the
/// dataset's mean/std (0.2860 / 0.3530). Headers are validated before anything is allocated.
/// </summary>
public sealed class FashionMnist : IDataset
{
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";
    public const float Mean = 0.2860f, Std = 0.3530f;
    public static readonly IReadOnlyList<string> Labels =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private readonly byte[] _pixels;
    private readonly byte[] _labels;

    private FashionMnist(byte[] pixels, byte[] labels, int count)
    {
        _pixels = pixels;
        _labels = labels;
        Count = count;
    }

    public int Count { get; }
    public TensorShape SampleShape { get; } = new(1, 28, 28);
    public int ClassCount => 10;
    public IReadOnlyList<string> ClassNames => Labels;

    /// <summary>Loads the training (60,000) or test (10,000) split; <paramref name="limit"/> keeps the first N samples.</summary>
    public static FashionMnist Load(bool train, string? directory = null, int? limit = null)
    {
        directory ??= DefaultDirectory;
        string prefix = train ? "train" : "t10k";
        string images = Find(directory, $"{prefix}-images-idx3-ubyte");
        string labels = Find(directory, $"{prefix}-labels-idx1-ubyte");
        var (pixels, n, rows, cols) = ReadIdx(images, 3, limit);
        if (rows != 28 || cols != 28) throw new DatasetException($"{images}: images are {rows}x{cols}, Fashion-MNIST is 28x28.");
        var (labelBytes, m, _, _) = ReadIdx(labels, 1, limit);
        if (m != n) throw new DatasetException($"{labels} has {m} labels for {n} images in {images}.");
        foreach (byte b in labelBytes)
            if (b > 9) throw new DatasetException($"{labels}: label {b} is outside 0..9.");
        return new FashionMnist(pixels, labelBytes, n);
    }

    public int Read(int index, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        if (destination.Length != 784) throw new ArgumentException($"A Fashion-MNIST sample has 784 values; the destination holds " +
            $"{destination.Length}.", nameof(destination));
        var src = _pixels.AsSpan(index * 784, 784);
        for (int i = 0; i < 784; i++) destination[i] = (src[i] / 255f - Mean) / Std;
        return _labels[index];
    }

    /// <summary>The raw 28×28 grey bytes of sample <paramref name="index"/> (for display).</summary>
    public ReadOnlySpan<byte> Pixels(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return _pixels.AsSpan(index * 784, 784);
    }

    /// <summary>The label of sample <paramref name="index"/>.</summary>
    public int Label(int index) => _labels[index];

    private static string Find(string directory, string name)
    {
        foreach (var candidate in new[] { name + ".gz", name })
        {
            string path = Path.Combine(directory, candidate);
            if (File.Exists(path)) return path;
        }
        throw new DatasetException($"Fashion-MNIST file {name}(.gz) was not found in {directory}. " +
            "On Debian/Ubuntu: `sudo apt-get install dataset-fashion-mnist` (./build.sh installs it), or pass the folder holding the " +
                "IDX files.");
    }

    /// <summary>Reads an IDX file of unsigned bytes with <paramref name="dims"/> dimensions.</summary>
    private static (byte[] Data, int Count, int Rows, int Cols) ReadIdx(string path, int dims, int? limit)
    {
        try
        {
            using var file = File.OpenRead(path);
            using Stream stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
            Span<byte> header = stackalloc byte[4 + 4 * dims];
            stream.ReadExactly(header);
            uint magic = BinaryPrimitives.ReadUInt32BigEndian(header);
            if (magic != (uint)(0x0800 | dims)) throw new DatasetException($"{path}: IDX magic 0x{magic:X8} is not an unsigned-byte " +
                $"{dims}-D file.");
            var size = new int[dims];
            for (int d = 0; d < dims; d++)
            {
                size[d] = BinaryPrimitives.ReadInt32BigEndian(header[(4 + 4 * d)..]);
                if (size[d] <= 0 || size[d] > 10_000_000) throw new DatasetException($"{path}: dimension {d} is {size[d]}.");
            }
            int count = limit is { } l ? Math.Min(l, size[0]) : size[0];
            long per = dims == 3 ? (long)size[1] * size[2] : 1;
            if (per * count > int.MaxValue) throw new DatasetException($"{path}: {count} x {per} bytes is too large.");
            var data = new byte[count * per];
            stream.ReadExactly(data);
            return (data, count, dims == 3 ? size[1] : 0, dims == 3 ? size[2] : 0);
        }
        catch (EndOfStreamException e) { throw new DatasetException($"{path} is truncated.", e); }
        catch (InvalidDataException e) { throw new DatasetException($"{path} is not a valid gzip/IDX file: {e.Message}", e); }
    }
}
