using System.Text.RegularExpressions;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Build;

/// <summary>
/// The integer contracts between C# and GLSL: enum codes passed as specialisation constants match the named
/// constants the shaders switch on (so a reordered or renamed enum fails here, not in a model), the shaders switch on
/// names rather than numbers, and every pipeline's push-constant size is checked against the shader's block.
/// </summary>
public sealed partial class ShaderContractTests(GpuFixture gpu) : GpuTest(gpu)
{
    public static TheoryData<string, string, string> Contracts => new()
    {
        { "VulkanCnn.Ops.ActivationKind", "common/activation_kinds.glsl", "ACT_" },
        { "VulkanCnn.Ops.MathOp", "common/unary_ops.glsl", "UNARY_" },
        { "VulkanCnn.Ops.BroadcastOp+Kind", "common/binary_ops.glsl", "BINARY_" },
    };

    [Theory]
    [MemberData(nameof(Contracts))]
    public void Enum_codes_match_the_shaders_named_constants(string enumType, string header, string prefix)
    {
        var type = typeof(ActivationKind).Assembly.GetType(enumType, throwOnError: true)!;
        var csharp = Enum.GetValues(type).Cast<object>().ToDictionary(v => prefix + Snake(v.ToString()!), v => Convert.ToInt64(v));
        var glsl = Constant().Matches(File.ReadAllText(Repo.PathOf("shaders", header)))
            .Where(m => m.Groups[1].Value.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value));
        Assert.True(csharp.Count >= 3, $"{enumType} has {csharp.Count} values");
        Assert.Equal(csharp.OrderBy(p => p.Key), glsl.OrderBy(p => p.Key));
    }

    [Fact]
    public void Shaders_switch_on_named_codes_not_numbers()
    {
        string[] files = ["common/activation.glsl", "common/activation_backward.glsl", "common/activation_backward_from_output.glsl",
            "unary.comp", "unary_backward.comp", "binary.comp", "binary_backward.comp"];
        foreach (var file in files)
        {
            var text = File.ReadAllText(Repo.PathOf("shaders", file));
            Assert.Matches(@"case [A-Z_]+:", text);
            Assert.DoesNotMatch(@"case \d+u?:", text);
            Assert.DoesNotMatch(@"ACTIVATION [!=]= \d", text);
        }
    }

    [Fact]
    public void A_push_constant_size_that_drifted_from_the_shader_is_refused_by_name()
    {
        Assert.Equal(12, ShaderInterface.PushConstantBytes(ShaderLibrary.GetSpirv("unary"), "unary"));
        Assert.Equal(0, ShaderInterface.PushConstantBytes(ShaderLibrary.GetSpirv("copy_vec4"), "copy_vec4") % 4);
        var e = Assert.Throws<ArgumentException>(() => Device.GetPipeline(new PipelineKey("unary", 2, 16, 64)));
        Assert.Contains("'unary' declares a 12-byte push-constant block", e.Message);
        Assert.Contains("16 bytes", e.Message);
        // Every shader's block is sized (no type the reader cannot lay out) and fits the Vulkan minimum of 128 bytes.
        foreach (var name in ShaderLibrary.Names)
            Assert.InRange(ShaderInterface.PushConstantBytes(ShaderLibrary.GetSpirv(name), name), 0, 128);
    }

    private static string Snake(string name) => Regex.Replace(name, "(?<!^)([A-Z])", "_$1").ToUpperInvariant();

    [GeneratedRegex(@"const u?int ([A-Z_]+) = (\d+)u?;")]
    private static partial Regex Constant();
}
