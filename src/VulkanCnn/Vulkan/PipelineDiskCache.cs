using Silk.NET.Vulkan;
using System.Security.Cryptography;
using System.Text;

namespace VulkanCnn.Vulkan;

/// <summary>What the on-disk pipeline cache did for one pipeline.</summary>
public enum PipelineCacheStatus
{
    /// <summary>The cache is turned off.</summary>
    Disabled,
    /// <summary>No file existed; the pipeline was compiled and the file written.</summary>
    Miss,
    /// <summary>A valid file for this device, driver and SPIR-V seeded the pipeline.</summary>
    Hit,
    /// <summary>A file existed but was corrupt, truncated or from another device/driver; it was deleted and rebuilt.</summary>
    Discarded,
}

/// <summary>
/// One file per pipeline under the cache folder. The file carries its own key (device UUID,
/// driver version, pipeline-cache UUID, SPIR-V hash) and a SHA-256 of the driver's blob, so a
/// corrupt or foreign file is detected before the driver ever sees it.
/// </summary>
internal sealed unsafe class PipelineDiskCache : IDisposable
{
    private static readonly byte[] Magic = "VKCNNPC\0"u8.ToArray();
    private const uint FormatVersion = 1;
    private const int HeaderBytes = 8 + 4 + 4 + 4 + 4 + 16 + 16 + 32 + 8 + 32;

    private readonly GpuDevice _device;
    private readonly byte[] _deviceUuid;
    private readonly byte[] _cacheUuid;

    public PipelineDiskCache(GpuDevice device, string? directory)
    {
        _device = device;
        Directory = directory;
        _deviceUuid = Convert.FromHexString(device.Info.DeviceUuid);
        _cacheUuid = Convert.FromHexString(device.Info.PipelineCacheUuid);
    }

    public string? Directory { get; }

    /// <summary>The file that holds the pipeline with this SPIR-V hash and specialisation data.</summary>
    public string? PathFor(string shader, byte[] spirvHash, ReadOnlySpan<byte> specialization)
    {
        if (Directory is null) return null;
        var key = new List<byte>();
        key.AddRange(_deviceUuid);
        key.AddRange(_cacheUuid);
        key.AddRange(BitConverter.GetBytes(_device.Info.DriverVersion));
        key.AddRange(spirvHash);
        key.AddRange(specialization.ToArray());
        return Path.Combine(Directory, $"{shader}-{Convert.ToHexString(SHA256.HashData(key.ToArray()))[..24].ToLowerInvariant()}.vkpc");
    }

    /// <summary>Creates a VkPipelineCache seeded from the file when the file is valid.</summary>
    public (PipelineCache Cache, PipelineCacheStatus Status) Open(string? path, byte[] spirvHash)
    {
        if (path is null) return (Create(ReadOnlySpan<byte>.Empty), PipelineCacheStatus.Disabled);
        if (!File.Exists(path)) return (Create(ReadOnlySpan<byte>.Empty), PipelineCacheStatus.Miss);
        string? problem;
        byte[]? payload = null;
        try { problem = Validate(File.ReadAllBytes(path), spirvHash, out payload); }
        catch (IOException e) { problem = "unreadable: " + e.Message; }
        catch (UnauthorizedAccessException e) { problem = "unreadable: " + e.Message; }
        if (problem is null)
        {
            try { return (Create(payload), PipelineCacheStatus.Hit); }
            catch (VulkanException e) { problem = "rejected by the driver: " + e.Message; }
        }
        _device.Log($"[vkcnn] pipeline cache file {path} discarded ({problem}); rebuilding it.");
        TryDelete(path);
        return (Create(ReadOnlySpan<byte>.Empty), PipelineCacheStatus.Discarded);
    }

    /// <summary>Writes the cache blob atomically (temporary file + rename). A failure is logged, never thrown.</summary>
    public void Save(string? path, PipelineCache cache, byte[] spirvHash)
    {
        if (path is null) return;
        try
        {
            nuint size = 0;
            _device.Vk.GetPipelineCacheData(_device.Handle, cache, &size, null).Check("vkGetPipelineCacheData");
            var blob = new byte[(int)size];
            fixed (byte* p = blob) _device.Vk.GetPipelineCacheData(_device.Handle, cache, &size, p).Check("vkGetPipelineCacheData");
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            string temp = path + "." + Environment.ProcessId + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
            File.WriteAllBytes(temp, Serialize(blob.AsSpan(0, (int)size), spirvHash));
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or VulkanException)
        {
            _device.Log($"[vkcnn] could not write pipeline cache file {path}: {e.Message}");
        }
    }

    public void Destroy(PipelineCache cache) => _device.Vk.DestroyPipelineCache(_device.Handle, cache, null);

    private PipelineCache Create(ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            var info = new PipelineCacheCreateInfo
            {
                SType = StructureType.PipelineCacheCreateInfo,
                InitialDataSize = (nuint)data.Length,
                PInitialData = p,
            };
            PipelineCache cache;
            _device.Vk.CreatePipelineCache(_device.Handle, &info, null, &cache).Check("vkCreatePipelineCache");
            return cache;
        }
    }

    internal byte[] Serialize(ReadOnlySpan<byte> blob, byte[] spirvHash)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms, Encoding.UTF8);
        w.Write(Magic);
        w.Write(FormatVersion);
        w.Write(_device.Info.VendorId);
        w.Write(_device.Info.DeviceId);
        w.Write(_device.Info.DriverVersion);
        w.Write(_deviceUuid);
        w.Write(_cacheUuid);
        w.Write(spirvHash);
        w.Write((ulong)blob.Length);
        w.Write(SHA256.HashData(blob));
        w.Write(blob);
        return ms.ToArray();
    }

    /// <summary>Returns null when the file is valid for this device and SPIR-V, else why not.</summary>
    internal string? Validate(byte[] file, byte[] spirvHash, out byte[]? payload)
    {
        payload = null;
        if (file.Length < HeaderBytes) return $"truncated: {file.Length} bytes, header needs {HeaderBytes}";
        var s = file.AsSpan();
        if (!s[..8].SequenceEqual(Magic)) return "wrong magic";
        if (BitConverter.ToUInt32(file, 8) != FormatVersion) return "unknown format version";
        if (BitConverter.ToUInt32(file, 12) != _device.Info.VendorId || BitConverter.ToUInt32(file, 16) != _device.Info.DeviceId)
            return "written for another device";
        if (BitConverter.ToUInt32(file, 20) != _device.Info.DriverVersion) return "written by another driver version";
        if (!s.Slice(24, 16).SequenceEqual(_deviceUuid)) return "written for another device UUID";
        if (!s.Slice(40, 16).SequenceEqual(_cacheUuid)) return "pipeline-cache UUID differs";
        if (!s.Slice(56, 32).SequenceEqual(spirvHash)) return "SPIR-V hash differs";
        ulong length = BitConverter.ToUInt64(file, 88);
        if (length != (ulong)(file.Length - HeaderBytes)) return $"payload length {length} does not match the file " +
            $"({file.Length - HeaderBytes} bytes)";
        var body = s[HeaderBytes..];
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(s.Slice(96, 32))) return "checksum mismatch";
        if (body.Length > 0 && ValidateDriverHeader(body) is { } bad) return bad;
        payload = body.ToArray();
        return null;
    }

    // The blob's own VkPipelineCacheHeaderVersionOne: checked so no driver parses a mismatched blob.
    private string? ValidateDriverHeader(ReadOnlySpan<byte> blob)
    {
        if (blob.Length < 32) return "driver blob shorter than its header";
        uint headerSize = BitConverter.ToUInt32(blob[..4]);
        uint version = BitConverter.ToUInt32(blob.Slice(4, 4));
        if (headerSize < 32 || headerSize > blob.Length || version != 1) return "driver blob header is malformed";
        if (BitConverter.ToUInt32(blob.Slice(8, 4)) != _device.Info.VendorId
            || BitConverter.ToUInt32(blob.Slice(12, 4)) != _device.Info.DeviceId)
            return "driver blob is for another device";
        if (!blob.Slice(16, 16).SequenceEqual(_cacheUuid)) return "driver blob UUID differs";
        return null;
    }

    private void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _device.Log($"[vkcnn] could not delete {path}: " +
            $"{e.Message}");
        }
    }

    public void Dispose() { }
}
