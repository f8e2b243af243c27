using System.Collections.Concurrent;
using System.Reflection;
using System.Security.Cryptography;

namespace VulkanCnn.Vulkan;

/// <summary>
/// The SPIR-V modules compiled from shaders/*.comp at build time and embedded in this assembly.
/// The registry is the set of resource names: adding a shader file adds it here.
/// </summary>
internal static class ShaderLibrary
{
    private const string Prefix = "VulkanCnn.Shaders.";
    private const string Suffix = ".spv";

    /// <summary>Name suffix of a shader's fp16-storage build (compiled with VKCNN_FP16_STORAGE, see common/precision.glsl).</summary>
    public const string Fp16Suffix = ".f16";
    private static readonly Assembly Assembly = typeof(ShaderLibrary).Assembly;
    private static readonly ConcurrentDictionary<string, byte[]> Cache = new();

    /// <summary>Shader names (the .comp file name without extension).</summary>
    public static IReadOnlySet<string> Names { get; } = Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(Suffix, StringComparison.Ordinal))
        .Select(n => n[Prefix.Length..^Suffix.Length])
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>The SPIR-V words of a shader, as bytes.</summary>
    public static byte[] GetSpirv(string name) => Cache.GetOrAdd(name, static n =>
    {
        using var stream = Assembly.GetManifestResourceStream(Prefix + n + Suffix)
            ?? throw new ArgumentException($"No shader named '{n}' is embedded. Known shaders: " +
                $"{string.Join(", ", Names.Order(StringComparer.Ordinal))}", nameof(name));
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        if (bytes.Length < 20 || bytes.Length % 4 != 0 || BitConverter.ToUInt32(bytes, 0) != 0x07230203)
            throw new InvalidDataException($"Embedded shader '{n}' is not a SPIR-V module.");
        return bytes;
    });

    /// <summary>SHA-256 of the SPIR-V, part of the pipeline cache key.</summary>
    public static byte[] Hash(string name) => SHA256.HashData(GetSpirv(name));
}
