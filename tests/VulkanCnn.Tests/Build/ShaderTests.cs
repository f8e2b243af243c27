using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Build;

public sealed class ShaderTests
{
    [Fact]
    public void Every_shader_file_is_embedded_and_nothing_else()
    {
        var files = Directory.GetFiles(Repo.PathOf("shaders"), "*.comp").Select(f =>
            Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(files);
        Assert.Equal(files, ShaderLibrary.Names);
    }

    public static TheoryData<string> Shaders => new(ShaderLibrary.Names);

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
