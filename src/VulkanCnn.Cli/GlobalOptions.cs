using System.CommandLine;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Cli;

/// <summary>Options every command understands.</summary>
internal static class GlobalOptions
{
    public static readonly Option<string?> Device = new("--device")
    {
        Description = "Device index or name substring (default: VKCNN_DEVICE, else the best device).",
        Recursive = true,
    };

    public static readonly Option<bool> Validation = new("--validation")
    {
        Description = "Enable the Vulkan validation layer (also VKCNN_VALIDATION=1).",
        Recursive = true,
    };

    public static readonly Option<DirectoryInfo?> CacheDir = new("--cache-dir")
    {
        Description = "Folder of the pipeline cache and the tuning choices (default: VKCNN_CACHE_DIR, else the user's cache folder).",
        Recursive = true,
    };

    public static GpuDeviceOptions DeviceOptions(ParseResult result) => new()
    {
        Device = result.GetValue(Device),
        Validation = result.GetValue(Validation) ? true : null,
        PipelineCacheDirectory = result.GetValue(CacheDir)?.FullName,
    };
}
