using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Build;

public sealed class ShaderTests
{
    /// <summary>Every shaders/*.comp is embedded, and an fp16-storage build (<c>name.f16</c>) exactly for those that include
    /// precision.glsl.</summary>
    [Fact]
    public void Every_shader_file_is_embedded_and_nothing_else()
    {
        var files = Directory.GetFiles(Repo.PathOf("shaders"), "*.comp");
        Assert.NotEmpty(files);
        var expected = files.Select(f => Path.GetFileNameWithoutExtension(f)!)
            .Concat(files.Where(f => File.ReadAllText(f).Contains("#include \"precision.glsl\"", StringComparison.Ordinal))
                .Select(f => Path.GetFileNameWithoutExtension(f)! + ShaderLibrary.Fp16Suffix))
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, ShaderLibrary.Names.Order(StringComparer.Ordinal).ToList());
    }

    /// <summary>An fp16-storage build uses 16-bit storage only: no shader needs fp16 arithmetic (the Float16 capability), which
    /// many devices with 16-bit storage lack.</summary>
    [Theory]
    [MemberData(nameof(Fp16Shaders))]
    public void Fp16_storage_builds_need_no_fp16_arithmetic(string shader)
    {
        var words = ShaderLibrary.GetSpirv(shader);
        const uint OpCapability = 17, Float16 = 9;
        var capabilities = new List<uint>();
        for (int i = 20; i + 8 <= words.Length;)
        {
            uint head = BitConverter.ToUInt32(words, i);
            int count = (int)(head >> 16);
            if ((head & 0xFFFF) == OpCapability) capabilities.Add(BitConverter.ToUInt32(words, i + 4));
            if (count == 0) break;
            i += count * 4;
        }
        Assert.DoesNotContain(Float16, capabilities);
        Assert.Contains(4433u, capabilities); // StorageBuffer16BitAccess
    }

    public static TheoryData<string> Shaders => new(ShaderLibrary.Names.Order(StringComparer.Ordinal));
    public static TheoryData<string> Fp16Shaders =>
        new(ShaderLibrary.Names.Where(n => n.EndsWith(ShaderLibrary.Fp16Suffix, StringComparison.Ordinal)).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Shaders))]
    public void Spirv_module_passes_spirv_val(string shader)
    {
        string path = Path.Combine(Path.GetTempPath(), $"vkcnn-{Environment.ProcessId}-{shader}.spv");
        File.WriteAllBytes(path, ShaderLibrary.GetSpirv(shader));
        try
        {
            var (code, output) = Repo.Run("spirv-val", "--target-env", "vulkan1.1", path);
            Assert.True(code == 0, $"spirv-val rejected {shader}: {output}");
        }
        finally { File.Delete(path); }
    }
}
