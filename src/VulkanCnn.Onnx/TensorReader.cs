using Onnx;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace VulkanCnn.Onnx;

/// <summary>
/// TensorProto → <see cref="CpuTensor"/>: raw_data or the typed fields, float16/bfloat16/double
/// narrowed to float32, integer and bool types widened to int64, external data read from files
/// confined to the model's folder. Sizes are checked before anything is allocated.
/// </summary>
internal sealed class TensorReader(string file, string? baseDirectory, OnnxImportOptions options)
{
    private const int Float = 1, Uint8 = 2, Int8 = 3, Uint16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8, Bool = 9,
        Float16 = 10, Double = 11, Uint32 = 12, Uint64 = 13, BFloat16 = 16;

    public static string TypeName(int type) => type switch
    {
        0 => "UNDEFINED",
        Float => "FLOAT",
        Uint8 => "UINT8",
        Int8 => "INT8",
        Uint16 => "UINT16",
        Int16 => "INT16",
        Int32 => "INT32",
        Int64 => "INT64",
        String => "STRING",
        Bool => "BOOL",
        Float16 => "FLOAT16",
        Double => "DOUBLE",
        Uint32 => "UINT32",
        Uint64 => "UINT64",
        14 => "COMPLEX64",
        15 => "COMPLEX128",
        BFloat16 => "BFLOAT16",
        >= 17 and <= 20 => "FLOAT8",
        21 => "UINT4",
        22 => "INT4",
        23 => "FLOAT4E2M1",
        _ => $"type {type}",
    };

    /// <summary>True for the element types the importer reads as float32.</summary>
    public static bool IsFloatType(int type) => type is Float or Float16 or Double or BFloat16;

    private static int ElementSize(int type) => type switch
    {
        Uint8 or Int8 or Bool => 1,
        Uint16 or Int16 or Float16 or BFloat16 => 2,
        Float or Int32 or Uint32 => 4,
        Int64 or Double or Uint64 => 8,
        _ => 0,
    };

    public CpuTensor Read(TensorProto t, string? what = null)
    {
        string name = what ?? (t.Name.Length > 0 ? t.Name : "<unnamed>");
        int type = t.DataType;
        if (ElementSize(type) == 0)
            throw Fail(name, $"element type {TypeName(type)} is not supported (float, integer and bool tensors are)");
        var dims = t.Dims.ToArray();
        long count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] < 0) throw Fail(name, $"dimension {i} is negative in dims [{string.Join(", ", dims)}]");
            if (dims[i] > int.MaxValue) throw Fail(name, $"dimension {i} ({dims[i]}) is too large in dims [{string.Join(", ", dims)}]");
            // Checked before multiplying on: dims whose product overflows are refused, not wrapped.
            if (dims[i] != 0 && count > options.MaxTensorBytes / 8 / dims[i] && !dims.Contains(0))
                throw Fail(name, $"dims [{string.Join(", ", dims)}] exceed the import limit of {options.MaxTensorBytes} bytes");
            count *= dims[i];
        }
        if (dims.Contains(0)) count = 0;
        long bytes = count * ElementSize(type);

        if (t.DataLocation == TensorProto.Types.DataLocation.External)
            return Decode(name, type, dims, count, ReadExternal(t, name, bytes));
        if (t.RawData.Length > 0 || (count == 0 && TypedCount(t, type) == 0))
        {
            if (t.RawData.Length != bytes)
                throw Fail(name,
                    $"raw_data holds {t.RawData.Length} bytes; dims [{string.Join(", ", dims)}] of {TypeName(type)} need {bytes}");
            return Decode(name, type, dims, count, t.RawData.Span);
        }
        long typed = TypedCount(t, type);
        if (typed != count)
            throw Fail(name, $"holds {typed} values in its typed data field; dims [{string.Join(", ", dims)}] need {count}");
        return type switch
        {
            Float => CpuTensor.Of(dims, t.FloatData.ToArray()),
            Double => CpuTensor.Of(dims, t.DoubleData.Select(v => (float)v).ToArray()),
            Float16 => CpuTensor.Of(dims, t.Int32Data.Select(v => (float)BitConverter.UInt16BitsToHalf((ushort)v)).ToArray()),
            BFloat16 => CpuTensor.Of(dims, t.Int32Data.Select(v => BitConverter.UInt32BitsToSingle((uint)(ushort)v << 16)).ToArray()),
            Int64 => CpuTensor.Of(dims, t.Int64Data.ToArray()),
            Uint32 or Uint64 => CpuTensor.Of(dims, t.Uint64Data.Select(v => unchecked((long)v)).ToArray()),
            Bool => CpuTensor.Of(dims, t.Int32Data.Select(v => v != 0 ? 1L : 0L).ToArray()),
            _ => CpuTensor.Of(dims, t.Int32Data.Select(v => (long)v).ToArray()),
        };
    }

    private static long TypedCount(TensorProto t, int type) => type switch
    {
        Float => t.FloatData.Count,
        Double => t.DoubleData.Count,
        Int64 => t.Int64Data.Count,
        Uint32 or Uint64 => t.Uint64Data.Count,
        _ => t.Int32Data.Count,
    };

    private static CpuTensor Decode(string name, int type, long[] dims, long count, ReadOnlySpan<byte> raw)
    {
        _ = name;
        if (BitConverter.IsLittleEndian && type == Float) return CpuTensor.Of(dims, MemoryMarshal.Cast<byte, float>(raw).ToArray());
        if (BitConverter.IsLittleEndian && type == Int64) return CpuTensor.Of(dims, MemoryMarshal.Cast<byte, long>(raw).ToArray());
        if (IsFloatType(type))
        {
            var f = new float[count];
            for (long i = 0; i < count; i++)
            {
                var s = raw[(int)(i * ElementSize(type))..];
                f[i] = type switch
                {
                    Float => BinaryPrimitives.ReadSingleLittleEndian(s),
                    Double => (float)BinaryPrimitives.ReadDoubleLittleEndian(s),
                    Float16 => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(s)),
                    _ => BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(s) << 16),
                };
            }
            return CpuTensor.Of(dims, f);
        }
        var v = new long[count];
        for (long i = 0; i < count; i++)
        {
            var s = raw[(int)(i * ElementSize(type))..];
            v[i] = type switch
            {
                Uint8 => s[0],
                Int8 => (sbyte)s[0],
                Bool => s[0] != 0 ? 1 : 0,
                Uint16 => BinaryPrimitives.ReadUInt16LittleEndian(s),
                Int16 => BinaryPrimitives.ReadInt16LittleEndian(s),
                Int32 => BinaryPrimitives.ReadInt32LittleEndian(s),
                Uint32 => BinaryPrimitives.ReadUInt32LittleEndian(s),
                _ => BinaryPrimitives.ReadInt64LittleEndian(s),
            };
        }
        return CpuTensor.Of(dims, v);
    }

    private byte[] ReadExternal(TensorProto t, string name, long bytes)
    {
        string? location = null;
        long offset = 0, length = -1;
        foreach (var kv in t.ExternalData)
        {
            switch (kv.Key)
            {
                case "location": location = kv.Value; break;
                case "offset" when !long.TryParse(kv.Value, out offset) || offset < 0:
                    throw Fail(name, $"external data offset '{kv.Value}' is not a non-negative integer");
                case "length" when !long.TryParse(kv.Value, out length) || length < 0:
                    throw Fail(name, $"external data length '{kv.Value}' is not a non-negative integer");
            }
        }
        if (string.IsNullOrEmpty(location)) throw Fail(name, "external data has no 'location'");
        if (length >= 0 && length != bytes)
            throw Fail(name, $"external data length {length} does not match the {bytes} bytes its dims and type need");
        if (baseDirectory is null)
            throw Fail(name, $"external data '{location}' needs the model's folder; load from a path or pass baseDirectory");
        string path = ExternalData.Resolve(baseDirectory, location, msg => Fail(name, msg));
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (offset > stream.Length || bytes > stream.Length - offset)
                throw Fail(name,
                    $"external data '{location}' has {stream.Length} bytes; offset {offset} + length {bytes} runs past its end");
            var data = new byte[bytes];
            stream.Seek(offset, SeekOrigin.Begin);
            stream.ReadExactly(data);
            return data;
        }
        catch (IOException e) { throw Fail(name, $"external data '{location}' cannot be read: {e.Message}", e); }
        catch (UnauthorizedAccessException e) { throw Fail(name, $"external data '{location}' cannot be read: {e.Message}", e); }
    }

    private OnnxImportException Fail(string tensor, string message, Exception? inner = null) =>
        new(file, message, tensor: tensor, inner: inner);
}

/// <summary>External-data paths: relative, inside the model's folder once every symlink is resolved.</summary>
internal static class ExternalData
{
    public static string Resolve(string baseDirectory, string location, Func<string, Exception> fail)
    {
        if (Path.IsPathRooted(location) || location.Contains(':'))
            throw fail($"external data path '{location}' is absolute; it must be relative to the model's folder");
        if (location.Split('/', '\\').Any(part => part == ".."))
            throw fail($"external data path '{location}' uses '..'; it must stay inside the model's folder");
        string root = RealPath(Path.GetFullPath(baseDirectory));
        string full = Path.GetFullPath(Path.Combine(root, location));
        if (!File.Exists(full)) throw fail($"external data file '{location}' does not exist in {root}");
        string real = RealPath(full);
        string prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        if (!real.StartsWith(prefix, StringComparison.Ordinal))
            throw fail($"external data path '{location}' resolves to '{real}', outside the model's folder {root} " +
                "(through a symbolic link)");
        return real;
    }

    /// <summary>The path with every symbolic link along it resolved (links to links followed).</summary>
    private static string RealPath(string path)
    {
        string current = Path.GetPathRoot(path)!;
        foreach (string part in path[current.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            var info = new FileInfo(current);
            if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
                current = RealPath(target.FullName);
        }
        return current;
    }
}
