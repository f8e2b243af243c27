using System.CommandLine;
using VulkanCnn.Compiler;
using VulkanCnn.Ops;
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

    public static readonly Option<Precision> Precision = new("--precision")
    {
        Description = "How tensors are stored: Fp32 (default), Fp16 (half storage, fp32 arithmetic, where a layer has fp16 kernels) " +
            "or Auto (fp16 where the device gains and the layer keeps its accuracy).",
        DefaultValueFactory = _ => Compiler.Precision.Fp32,
        Recursive = true,
    };

    public static readonly Option<string[]> Variant = new("--variant")
    {
        Description = "Force a kernel variant, OP=NAME or NODE=NAME (repeatable), e.g. --variant Conv=gemm: the rest by the " +
            "device's rule (Tuning.Fixed).",
        Recursive = true,
    };

    /// <summary>The session options the global flags ask for.</summary>
    public static SessionOptions Session(ParseResult result)
    {
        var variants = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var v in result.GetValue(Variant) ?? [])
        {
            int eq = v.IndexOf('=');
            if (eq <= 0 || eq == v.Length - 1)
                throw new ArgumentException($"--variant '{v}' is not OP=NAME or NODE=NAME (e.g. Conv=gemm).", "--variant");
            variants[v[..eq]] = v[(eq + 1)..];
        }
        return new SessionOptions
        {
            Precision = result.GetValue(Precision),
            Tuning = variants.Count > 0 ? Tuning.Fixed(variants) : Tuning.Heuristic,
        };
    }

    public static GpuDeviceOptions DeviceOptions(ParseResult result) => new()
    {
        Device = result.GetValue(Device),
        Validation = result.GetValue(Validation) ? true : null,
        PipelineCacheDirectory = result.GetValue(CacheDir)?.FullName,
    };
}
