using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace VulkanCnn.Imaging;

/// <summary>Element types this reader understands.</summary>
public enum NpyDataType { Float32, Float64, Int32, Int64 }

/// <summary>A parsed .npy header: element type, C-order shape and where the data starts.</summary>
public sealed record NpyHeader(int Version, NpyDataType DataType, int[] Shape, long ElementCount, long DataOffset)
{
    public int ElementSize => DataType is NpyDataType.Float64 or NpyDataType.Int64 ? 8 : 4;
    public string ShapeText => $"({string.Join(", ", Shape)}{(Shape.Length == 1 ? "," : "")})";
}

/// <summary>An array read from a .npy file. The shape may be empty (a scalar) or hold zeros.</summary>
public sealed record NpyArray<T>(int[] Shape, T[] Data)
{
    /// <summary>The shape as a <see cref="TensorShape"/> (a zero dimension makes an empty shape; a scalar becomes [1]).</summary>
    public TensorShape ToTensorShape() => Shape.Length == 0 ? [1] : new TensorShape(Shape);
}

/// <summary>A .npy file is malformed or holds something this reader does not support.</summary>
public sealed class NpyFormatException(string source, string message) : IOException($"{source}: {message}")
{
    public string SourceName { get; } = source;
}

/// <summary>
/// NumPy .npy files (format versions 1.0, 2.0 and 3.0): little-endian float32/float64/int32/int64, C order.
/// Every length in the header is checked against the bytes actually present before anything is allocated,
/// so a hostile header cannot cause a huge allocation or a read out of range.
/// </summary>
public static class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Longest header accepted. NumPy itself refuses headers over 10 000 bytes by default.</summary>
    public const int MaxHeaderLength = 1 << 16;

    /// <summary>NumPy's own limit on dimensions.</summary>
    public const int MaxRank = 64;

    public static NpyArray<float> ReadFloat32(string path) => WithFile(path, s => ReadFloat32(s, path));
    public static NpyArray<int> ReadInt32(string path) => WithFile(path, s => ReadInt32(s, path));
    public static NpyArray<long> ReadInt64(string path) => WithFile(path, s => ReadInt64(s, path));
    public static NpyArray<float> ReadAsFloat32(string path) => WithFile(path, s => ReadAsFloat32(s, path));
    public static NpyHeader ReadHeader(string path) => WithFile(path, s => ReadHeader(s, path), requireEnd: false);

    /// <summary>Reads a float32 array ('&lt;f4').</summary>
    public static NpyArray<float> ReadFloat32(Stream stream, string name = "stream")
    {
        var header = ReadHeader(stream, name);
        Require(header, name, "float32 ('<f4')", NpyDataType.Float32);
        return new(header.Shape, ReadData<float>(stream, header, name));
    }

    /// <summary>Reads an int32 array ('&lt;i4'), or an int64 one whose values all fit in int32.</summary>
    public static NpyArray<int> ReadInt32(Stream stream, string name = "stream")
    {
        var header = ReadHeader(stream, name);
        Require(header, name, "int32 ('<i4') or int64 ('<i8')", NpyDataType.Int32, NpyDataType.Int64);
        if (header.DataType == NpyDataType.Int32) return new(header.Shape, ReadData<int>(stream, header, name));
        long[] wide = ReadData<long>(stream, header, name);
        var data = new int[wide.Length];
        for (int i = 0; i < wide.Length; i++)
        {
            if (wide[i] is < int.MinValue or > int.MaxValue)
                throw new NpyFormatException(name, $"int64 value {wide[i]} at flat index {i} does not fit in int32");
            data[i] = (int)wide[i];
        }
        return new(header.Shape, data);
    }

    /// <summary>Reads an int64 ('&lt;i8') or int32 ('&lt;i4') array as int64.</summary>
    public static NpyArray<long> ReadInt64(Stream stream, string name = "stream")
    {
        var header = ReadHeader(stream, name);
        Require(header, name, "int64 ('<i8') or int32 ('<i4')", NpyDataType.Int64, NpyDataType.Int32);
        if (header.DataType == NpyDataType.Int64) return new(header.Shape, ReadData<long>(stream, header, name));
        return new(header.Shape, Array.ConvertAll(ReadData<int>(stream, header, name), v => (long)v));
    }

    /// <summary>Reads any supported type converted to float32 (GPU tensors are float32; NumPy's default is float64).</summary>
    public static NpyArray<float> ReadAsFloat32(Stream stream, string name = "stream")
    {
        var header = ReadHeader(stream, name);
        return new(header.Shape, header.DataType switch
        {
            NpyDataType.Float32 => ReadData<float>(stream, header, name),
            NpyDataType.Float64 => Array.ConvertAll(ReadData<double>(stream, header, name), v => (float)v),
            NpyDataType.Int32 => Array.ConvertAll(ReadData<int>(stream, header, name), v => (float)v),
            _ => Array.ConvertAll(ReadData<long>(stream, header, name), v => (float)v),
        });
    }

    /// <summary>Writes a float32 C-order array (format 1.0, or 2.0 when the header needs it).</summary>
    public static void WriteFloat32(string path, ReadOnlySpan<float> data, ReadOnlySpan<int> shape)
    {
        using var stream = File.Create(path);
        WriteFloat32(stream, data, shape);
    }

    public static void WriteFloat32(Stream stream, ReadOnlySpan<float> data, ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Shape [{string.Join(", ", shape.ToArray())}] has a negative dimension.",
                nameof(shape));
            count = checked(count * d);
        }
        if (count != data.Length)
            throw new ArgumentException($"Shape [{string.Join(", ", shape.ToArray())}] holds {count} values; data has {data.Length}.",
                nameof(data));
        string dims = string.Join(", ", shape.ToArray()) + (shape.Length == 1 ? "," : "");
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}), }}";
        // Pad with spaces so the data starts on a 64-byte boundary; the header ends with '\n'.
        // Version 2.0 only when the header does not fit version 1.0's 16-bit length, as NumPy does.
        int padded = PaddedLength(10, dict.Length);
        int version = padded <= ushort.MaxValue ? 1 : 2;
        int prefix = version == 1 ? 10 : 12;
        if (version == 2) padded = PaddedLength(12, dict.Length);
        var header = Encoding.ASCII.GetBytes(dict.PadRight(padded - 1) + "\n");
        Span<byte> lead = stackalloc byte[12];
        Magic.CopyTo(lead);
        lead[6] = (byte)version;
        lead[7] = 0;
        if (version == 1) BinaryPrimitives.WriteUInt16LittleEndian(lead[8..], (ushort)header.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(lead[8..], (uint)header.Length);
        stream.Write(lead[..prefix]);
        stream.Write(header);
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data));
            return;
        }
        var buffer = new byte[4];
        foreach (float v in data)
        {
            BinaryPrimitives.WriteSingleLittleEndian(buffer, v);
            stream.Write(buffer);
        }
    }

    private static int PaddedLength(int prefix, int dictLength) => (prefix + dictLength + 1 + 63) / 64 * 64 - prefix;

    /// <summary>Reads and validates the header, leaving the stream at the first data byte.</summary>
    public static NpyHeader ReadHeader(Stream stream, string name = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        long start = stream.CanSeek ? stream.Position : 0;
        Span<byte> lead = stackalloc byte[10];
        if (!TryFill(stream, lead)) throw new NpyFormatException(name, "too short for a .npy header");
        if (!lead[..6].SequenceEqual(Magic)) throw new NpyFormatException(name, "not a .npy file (the magic string \\x93NUMPY is missing)");
        int major = lead[6], minor = lead[7];
        if (major is < 1 or > 3 || minor != 0)
            throw new NpyFormatException(name, $".npy format version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are)");
        long headerLength = BinaryPrimitives.ReadUInt16LittleEndian(lead[8..]);
        int prefix = 10;
        if (major >= 2)
        {
            Span<byte> more = stackalloc byte[2];
            if (!TryFill(stream, more)) throw new NpyFormatException(name, "too short for a .npy header");
            headerLength = BinaryPrimitives.ReadUInt32LittleEndian([lead[8], lead[9], more[0], more[1]]);
            prefix = 12;
        }
        if (headerLength > MaxHeaderLength)
            throw new NpyFormatException(name, $"header length {headerLength} exceeds the {MaxHeaderLength}-byte limit");
        if (stream.CanSeek && stream.Length - stream.Position < headerLength)
            throw new NpyFormatException(name,
                $"header length {headerLength} runs past the end of the data ({stream.Length - stream.Position} bytes left)");
        var text = new byte[headerLength];
        if (!TryFill(stream, text)) throw new NpyFormatException(name, $"header of {headerLength} bytes is truncated");
        string dict;
        try { dict = (major == 3 ? new UTF8Encoding(false, true) : Encoding.Latin1).GetString(text); }
        catch (DecoderFallbackException) { throw new NpyFormatException(name, "header is not valid UTF-8"); }
        var (descr, fortran, shape) = new NpyHeaderParser(dict, name).Parse();
        if (fortran)
            throw new NpyFormatException(name,
                "array is stored in Fortran (column-major) order; save it in C order (np.ascontiguousarray) instead");
        var type = ParseDescr(descr, name);
        long count = 1;
        foreach (int d in shape)
        {
            count *= d; // d <= int.MaxValue and count <= Array.MaxLength here, so no overflow
            if (count > Array.MaxLength)
                throw new NpyFormatException(name, $"shape ({string.Join(", ", shape)}) has more elements than an array can hold");
        }
        return new NpyHeader(major, type, shape, count, (stream.CanSeek ? start : 0) + prefix + headerLength);
    }

    private static NpyDataType ParseDescr(string descr, string name)
    {
        if (descr.Length >= 2 && descr[0] == '>' && descr != ">i1" && descr != ">u1")
            throw new NpyFormatException(name, $"dtype '{descr}' is big-endian; only little-endian data is supported");
        bool little = descr.Length >= 2 && (descr[0] == '<' || (descr[0] == '=' && BitConverter.IsLittleEndian));
        return (little ? descr[1..] : null) switch
        {
            "f4" => NpyDataType.Float32,
            "f8" => NpyDataType.Float64,
            "i4" => NpyDataType.Int32,
            "i8" => NpyDataType.Int64,
            _ => throw new NpyFormatException(name, $"dtype '{descr}' is not supported; expected '<f4', '<f8', '<i4' or '<i8'"),
        };
    }

    private static void Require(NpyHeader header, string name, string expected, params NpyDataType[] types)
    {
        if (Array.IndexOf(types, header.DataType) < 0)
            throw new NpyFormatException(name, $"holds {header.DataType} {header.ShapeText}; expected {expected}");
    }

    private static T[] ReadData<T>(Stream stream, NpyHeader header, string name) where T : unmanaged
    {
        long bytes = header.ElementCount * header.ElementSize;
        if (stream.CanSeek && stream.Length - stream.Position < bytes)
            throw new NpyFormatException(name,
                $"shape {header.ShapeText} needs {bytes} data bytes but only {stream.Length - stream.Position} follow the header");
        T[] data;
        if (stream.CanSeek)
        {
            data = new T[header.ElementCount];
            if (!TryFill(stream, MemoryMarshal.AsBytes(data.AsSpan())))
                throw new NpyFormatException(name, $"data is truncated (shape {header.ShapeText})");
        }
        else
        {
            if (bytes > Array.MaxLength)
                throw new NpyFormatException(name, $"shape {header.ShapeText} is too large to read from a stream of unknown length");
            // Unknown length: let memory grow with the bytes that really arrive, not with the header's claim.
            var buffered = new MemoryStream();
            var chunk = new byte[1 << 20];
            while (buffered.Length < bytes)
            {
                int n = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, bytes - buffered.Length));
                if (n == 0) throw new NpyFormatException(name,
                    $"data is truncated: shape {header.ShapeText} needs {bytes} bytes, got {buffered.Length}");
                buffered.Write(chunk, 0, n);
            }
            data = MemoryMarshal.Cast<byte, T>(buffered.GetBuffer().AsSpan(0, (int)bytes)).ToArray();
        }
        if (!BitConverter.IsLittleEndian) ReverseEndianness(MemoryMarshal.AsBytes(data.AsSpan()), header.ElementSize);
        return data;
    }

    private static void ReverseEndianness(Span<byte> bytes, int size)
    {
        for (int i = 0; i < bytes.Length; i += size) bytes.Slice(i, size).Reverse();
    }

    private static bool TryFill(Stream stream, Span<byte> buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = stream.Read(buffer[read..]);
            if (n == 0) return false;
            read += n;
        }
        return true;
    }

    // Files are read whole: anything after the array is a sign of the wrong file or a broken writer.
    private static T WithFile<T>(string path, Func<Stream, T> read, bool requireEnd = true)
    {
        using var stream = File.OpenRead(path);
        T result = read(stream);
        if (requireEnd && stream.Position != stream.Length)
            throw new NpyFormatException(path, $"{stream.Length - stream.Position} unexpected bytes after the array data");
        return result;
    }
}
