using System.Text.Json;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Compiler;

/// <summary>One remembered choice: the winning variant of a node configuration, the times it was chosen by, and the
/// SHA-256 of every shader the measured variants ran (a changed shader means measuring again).</summary>
internal sealed record TunedChoice(string Key, string Variant, IReadOnlyDictionary<string, double> Milliseconds, IReadOnlyDictionary<string,
    string> Shaders);

/// <summary>What the store did with its file when it was opened.</summary>
public enum TuningFileStatus
{
    /// <summary>No cache folder (the pipeline cache is off): choices live as long as the device.</summary>
    Disabled,
    /// <summary>No file yet for this device and driver.</summary>
    Missing,
    /// <summary>A valid file was read.</summary>
    Loaded,
    /// <summary>A file existed but was corrupt or written for another device, driver or format; it was deleted.</summary>
    Discarded,
}

/// <summary>
/// Measured variant choices, kept next to the pipeline cache (<c>VKCNN_CACHE_DIR</c>) in one JSON file per device UUID
/// and driver version. The file repeats its key, so a renamed or copied file from another device is discarded, never
/// trusted; an entry whose shaders' SPIR-V changed since it was measured is ignored and measured again.
/// </summary>
internal sealed class TuningStore
{
    private const int FormatVersion = 1;
    private readonly Dictionary<string, TunedChoice> _choices = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private readonly string _deviceUuid;
    private readonly uint _driverVersion;
    private readonly Action<string> _log;
    private bool _unsaved;
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<GpuDevice, TuningStore> PerDevice = new();

    private TuningStore(string? path, string deviceUuid, uint driverVersion, Action<string> log)
    {
        Path = path;
        _deviceUuid = deviceUuid;
        _driverVersion = driverVersion;
        _log = log;
    }

    /// <summary>The file, or null when the pipeline cache is off.</summary>
    public string? Path { get; }
    public TuningFileStatus Status { get; private set; }
    public int Count { get { lock (_gate) return _choices.Count; } }

    /// <summary>The store of <paramref name="device"/> (one per device, shared by its sessions): its file under the pipeline
    /// cache folder, read if valid.</summary>
    public static TuningStore Open(GpuDevice device) => PerDevice.GetValue(device, static d =>
    {
        var info = d.Info;
        string? dir = d.PipelineCache.Directory;
        string? path = dir is null ? null
            : System.IO.Path.Combine(dir, $"tuning-{info.DeviceUuid.ToLowerInvariant()}-{info.DriverVersion:x8}.json");
        var store = new TuningStore(path, info.DeviceUuid, info.DriverVersion, d.Log);
        lock (store._gate) store.Status = store.Read(store._choices, deleteInvalid: true);
        return store;
    });

    /// <summary>The remembered choice for <paramref name="key"/> when every shader it measured is unchanged.</summary>
    public TunedChoice? Find(string key)
    {
        lock (_gate)
        {
            if (!_choices.TryGetValue(key, out var c)) return null;
            foreach (var (shader, hash) in c.Shaders)
                if (!ShaderLibrary.Names.Contains(shader) || Convert.ToHexString(ShaderLibrary.Hash(shader)) != hash) return null;
            return c;
        }
    }

    /// <summary>Remembers a choice (in memory until <see cref="Save"/>).</summary>
    public void Add(TunedChoice choice)
    {
        lock (_gate)
        {
            _choices[choice.Key] = choice;
            _unsaved = true;
        }
    }

    /// <summary>Writes the choices made since the last save: what another process wrote meanwhile is merged in (this store's
    /// choices win), and the new file replaces the old atomically (a temporary file of its own renamed over it). A folder that
    /// cannot be written only means the choices are not remembered after this process, never a failed compile.</summary>
    public void Save()
    {
        lock (_gate)
        {
            if (Path is null || !_unsaved) return;
            _unsaved = false;
            string temp = $"{Path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
            try
            {
                var merged = new Dictionary<string, TunedChoice>(StringComparer.Ordinal);
                Read(merged, deleteInvalid: false);
                foreach (var (key, c) in _choices) merged[key] = c;
                var file = new TuningFile(FormatVersion, _deviceUuid, _driverVersion,
                    merged.Values.OrderBy(c => c.Key, StringComparer.Ordinal).ToList());
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
                File.WriteAllText(temp, JsonSerializer.Serialize(file, JsonOptions));
                File.Move(temp, Path, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log($"[vkcnn] tuning choices not saved to {Path}: {e.Message}");
                try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }
    }

    /// <summary>Reads the file's choices into <paramref name="into"/>; an invalid file is discarded (deleted when asked).</summary>
    private TuningFileStatus Read(Dictionary<string, TunedChoice> into, bool deleteInvalid)
    {
        if (Path is null) return TuningFileStatus.Disabled;
        try
        {
            if (!File.Exists(Path)) return TuningFileStatus.Missing;
            var file = JsonSerializer.Deserialize<TuningFile>(File.ReadAllText(Path), JsonOptions);
            if (file is null || file.Format != FormatVersion || file.DeviceUuid != _deviceUuid || file.DriverVersion != _driverVersion
                || file.Choices is null)
                throw new InvalidDataException("written for another device, driver or format");
            var read = new Dictionary<string, TunedChoice>(StringComparer.Ordinal);
            foreach (var c in file.Choices)
            {
                if (c?.Key is null || c.Variant is null || c.Shaders is null || c.Milliseconds is null)
                    throw new InvalidDataException("an entry is incomplete");
                read[c.Key] = c;
            }
            foreach (var (key, c) in read) into[key] = c;
            return TuningFileStatus.Loaded;
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or NotSupportedException)
        {
            if (deleteInvalid)
                try { File.Delete(Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            return TuningFileStatus.Discarded;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log($"[vkcnn] tuning choices in {Path} could not be read: {e.Message}");
            return TuningFileStatus.Missing;
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    private sealed record TuningFile(int Format, string DeviceUuid, uint DriverVersion, List<TunedChoice> Choices);
}
