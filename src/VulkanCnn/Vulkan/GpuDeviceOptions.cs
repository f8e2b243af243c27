namespace VulkanCnn.Vulkan;

/// <summary>
/// How <see cref="GpuDevice.Create"/> picks and configures a device. Unset values fall back to
/// environment variables (<c>VKCNN_DEVICE</c>, <c>VKCNN_VALIDATION</c>, <c>VKCNN_FORCE_STAGING</c>,
/// <c>VKCNN_CACHE_DIR</c>, <c>VKCNN_MAX_BUFFER_BYTES</c>) and then to defaults.
/// </summary>
public sealed record GpuDeviceOptions
{
    /// <summary>Device index (as listed by <c>vkcnn devices</c>) or a case-insensitive name substring. Default: best device.</summary>
    public string? Device { get; init; }

    /// <summary>Enable the Khronos validation layer with synchronization validation.</summary>
    public bool? Validation { get; init; }

    /// <summary>Never map device memory: move every tensor through staging buffers, as on a discrete GPU.</summary>
    public bool? ForceStaging { get; init; }

    /// <summary>Folder of the on-disk pipeline cache. Default: the per-user cache folder.</summary>
    public string? PipelineCacheDirectory { get; init; }

    /// <summary>Turn the on-disk pipeline cache off.</summary>
    public bool DisablePipelineCache { get; init; }

    /// <summary>
    /// Lowers the largest storage-buffer binding the runtime uses below the device's maxStorageBufferRange (never raises it):
    /// weights larger than it are split across several buffers, as they are on a device with a small limit. For testing that
    /// path with small tensors, and for matching a smaller target device. Default: the device's limit.
    /// </summary>
    public ulong? MaxBufferBytes { get; init; }

    /// <summary>Size of the memory blocks tensors are sub-allocated from.</summary>
    public ulong MemoryBlockBytes { get; init; } = 64UL << 20;

    /// <summary>Extra instance extensions (e.g. surface extensions for a window).</summary>
    public IReadOnlyList<string> InstanceExtensions { get; init; } = [];

    /// <summary>Extra device extensions (e.g. VK_KHR_swapchain).</summary>
    public IReadOnlyList<string> DeviceExtensions { get; init; } = [];

    /// <summary>Receives diagnostics: validation messages, cache decisions, leaked objects. Default: standard error.</summary>
    public Action<string>? Log { get; init; }

    internal GpuDeviceOptions Resolve() => (MaxBufferBytes < 1024
        ? throw new ArgumentOutOfRangeException(nameof(MaxBufferBytes), MaxBufferBytes, "A binding limit below 1 KiB is not usable.")
        : this) with
    {
        Device = Device ?? NonEmpty(Environment.GetEnvironmentVariable("VKCNN_DEVICE")),
        Validation = Validation ?? IsOn("VKCNN_VALIDATION"),
        ForceStaging = ForceStaging ?? IsOn("VKCNN_FORCE_STAGING"),
        MaxBufferBytes = MaxBufferBytes ?? Bytes("VKCNN_MAX_BUFFER_BYTES"),
        PipelineCacheDirectory = PipelineCacheDirectory
            ?? NonEmpty(Environment.GetEnvironmentVariable("VKCNN_CACHE_DIR"))
            ?? DefaultCacheDirectory(),
        Log = Log ?? (msg => Console.Error.WriteLine(msg)),
    };

    /// <summary>$XDG_CACHE_HOME/vkcnn (Linux), %LOCALAPPDATA%\VulkanCnn\cache (Windows), ~/Library/Caches/vkcnn (macOS).</summary>
    public static string DefaultCacheDirectory()
    {
        if (OperatingSystem.IsWindows())
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "VulkanCnn", "cache");
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (OperatingSystem.IsMacOS()) return Path.Combine(home, "Library", "Caches", "vkcnn");
        string? xdg = NonEmpty(Environment.GetEnvironmentVariable("XDG_CACHE_HOME"));
        return Path.Combine(xdg ?? Path.Combine(home, ".cache"), "vkcnn");
    }

    private static bool IsOn(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { } v && (v == "1" || v.Equals("true", StringComparison.OrdinalIgnoreCase));

    private static ulong? Bytes(string variable) => NonEmpty(Environment.GetEnvironmentVariable(variable)) is { } v
        ? ulong.TryParse(v, out ulong bytes) && bytes >= 1024 ? bytes
            : throw new ArgumentException($"{variable}='{v}' is not a byte count of at least 1024.")
        : null;

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
