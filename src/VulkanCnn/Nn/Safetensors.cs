using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VulkanCnn.Nn;

/// <summary>A safetensors file is malformed, hostile or does not fit the model; names the file and the tensor.</summary>
public sealed class SafetensorsException : Exception
{
    public SafetensorsException(string path, string message) : base($"{path}: {message}") => Path = path;
    public string Path { get; }
}

/// <summary>
/// Reads and writes the safetensors format (8-byte little-endian header length, JSON header,
/// raw little-endian data), F32 tensors. Every offset and size in an untrusted header is checked
/// against the file before anything is allocated or read. Writes are atomic (temp + rename).
/// </summary>
public static class Safetensors
{
    /// <summary>Headers larger than this are refused (the format's reference limit is 100 MB).</summary>
    public const long MaxHeaderBytes = 100L << 20;

    public static void Save(string path, IReadOnlyDictionary<string, (TensorShape Shape, float[] Data)> tensors, IReadOnlyDictionary<string,
        string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        var ordered = tensors.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        foreach (var (name, (shape, data)) in ordered)
        {
            if (data.Length != shape.ElementCount) throw new ArgumentException($"Tensor '{name}' has {data.Length} values for shape " +
                $"{shape}.");
            long bytes = data.LongLength * 4;
            header[name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray(shape.Dimensions.ToArray().Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8; // keep the data 8-byte aligned, padded with spaces
        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        string temp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var f = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                Span<byte> len = stackalloc byte[8];
                BinaryPrimitives.WriteInt64LittleEndian(len, padded);
                f.Write(len);
                f.Write(json);
                for (int i = json.Length; i < padded; i++) f.WriteByte((byte)' ');
                foreach (var (_, (_, data)) in ordered)
                {
                    if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Big-endian hosts are not supported.");
                    f.Write(MemoryMarshal.AsBytes(data.AsSpan()));
                }
                f.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>Reads every tensor and the metadata. Throws <see cref="SafetensorsException"/> on anything malformed.</summary>
    public static (Dictionary<string, (TensorShape Shape, float[] Data)> Tensors, Dictionary<string, string> Metadata) Load(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read);
        long fileLength = f.Length;
        if (fileLength < 8) throw new SafetensorsException(path,
            $"file is {fileLength} bytes; a safetensors file starts with an 8-byte header length");
        Span<byte> len = stackalloc byte[8];
        f.ReadExactly(len);
        long headerBytes = BinaryPrimitives.ReadInt64LittleEndian(len);
        if (headerBytes <= 0 || headerBytes > MaxHeaderBytes || headerBytes > fileLength - 8)
            throw new SafetensorsException(path, $"header length {headerBytes} is invalid for a {fileLength}-byte file");
        var headerBuffer = new byte[headerBytes];
        f.ReadExactly(headerBuffer);
        JsonObject header;
        try { header = JsonNode.Parse(headerBuffer)?.AsObject() ?? throw new JsonException("empty header"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new SafetensorsException(path,
            "header is not a JSON object: " + e.Message);
        }

        long dataStart = 8 + headerBytes, dataLength = fileLength - dataStart;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new Dictionary<string, (TensorShape, float[])>(StringComparer.Ordinal);
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is not JsonObject meta) throw new SafetensorsException(path, "__metadata__ is not an object");
                foreach (var (k, v) in meta) metadata[k] = v is JsonValue jv && jv.TryGetValue(out string? s) ? s
                    : throw new SafetensorsException(path, $"metadata '{k}' is not a string");
                continue;
            }
            tensors[name] = ReadTensor(path, f, name, node, dataStart, dataLength);
        }
        return (tensors, metadata);
    }

    private static (TensorShape, float[]) ReadTensor(string path, FileStream f, string name, JsonNode? node, long dataStart,
        long dataLength)
    {
        try
        {
            var entry = node!.AsObject();
            string dtype = entry["dtype"]!.GetValue<string>();
            if (dtype != "F32") throw new SafetensorsException(path, $"tensor '{name}' has dtype {dtype}; only F32 is supported");
            var dims = entry["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var offsets = entry["data_offsets"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength)
                throw new SafetensorsException(path,
                    $"tensor '{name}' has data_offsets [{string.Join(", ", offsets)}] outside the {dataLength}-byte data section");
            long count = 1;
            foreach (long d in dims)
            {
                if (d <= 0 || d > int.MaxValue) throw new SafetensorsException(path, $"tensor '{name}' has dimension {d}");
                count = checked(count * d);
            }
            if (count * 4 != offsets[1] - offsets[0])
                throw new SafetensorsException(path,
                    $"tensor '{name}' of shape [{string.Join(", ", dims)}] needs {count * 4} bytes but its offsets span " +
                        $"{offsets[1] - offsets[0]}");
            var data = new float[count];
            f.Position = dataStart + offsets[0];
            f.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan()));
            return (new TensorShape(dims.Select(d => (int)d).ToArray()), data);
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException or OverflowException
            or ArgumentException)
        {
            throw new SafetensorsException(path, $"tensor '{name}' has a malformed entry: {e.Message}");
        }
    }
}

/// <summary>Saving and loading a module's parameters by their state_dict names.</summary>
public static class ModuleWeights
{
    public static void SaveSafetensors(this Module module, string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        Safetensors.Save(path, module.StateDict().ToDictionary(p => p.Key, p => (p.Value.Shape, p.Value.Data)), metadata);

    /// <summary>Loads every parameter; a missing, unexpected or mis-shaped tensor is an error naming it, and nothing is changed
    /// then.</summary>
    public static IReadOnlyDictionary<string, string> LoadSafetensors(this Module module, string path)
    {
        var (tensors, metadata) = Safetensors.Load(path);
        var state = module.StateDict();
        var missing = state.Keys.Where(k => !tensors.ContainsKey(k)).ToList();
        var unexpected = tensors.Keys.Where(k => !state.ContainsKey(k)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new SafetensorsException(path,
                $"does not match the model: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", unexpected)}]");
        foreach (var (name, p) in state)
            if (tensors[name].Shape != p.Shape)
                throw new SafetensorsException(path, $"tensor '{name}' has shape {tensors[name].Shape}; the model expects {p.Shape}");
        foreach (var (name, p) in state) tensors[name].Data.CopyTo(p.Data, 0);
        return metadata;
    }
}
