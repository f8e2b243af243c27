using System.Text.RegularExpressions;
using VulkanCnn.Tests.Infrastructure;

namespace VulkanCnn.Tests.Build;

/// <summary>Every external program the code starts must be installed by build.sh, so a fresh machine works.</summary>
public sealed partial class ExternalToolsTests
{
    /// <summary>Program → Debian package that ships it. A program missing here fails the test: add it and its package.</summary>
    private static readonly Dictionary<string, string> PackageOf = new()
    {
        ["glslc"] = "glslc",
        ["spirv-val"] = "spirv-tools",
        ["ffmpeg"] = "ffmpeg",
        ["ffprobe"] = "ffmpeg",
        ["xvfb-run"] = "xvfb",
        ["Xvfb"] = "xvfb",
        ["xauth"] = "xauth",
        ["import"] = "imagemagick",
        ["convert"] = "imagemagick",
        ["xdotool"] = "xdotool",
        ["fc-list"] = "fontconfig",
        ["vulkaninfo"] = "vulkan-tools",
        ["/usr/bin/python3"] = "python3-torch", // the benchmark's PyTorch peer (Debian's python3 with torch)
    };

    // A program name as a string literal passed to a process API, or the first word of an MSBuild Exec command.
    [GeneratedRegex("""(?:(?:new\s+ProcessStartInfo\(|FileName\s*=\s*|Process\.Start\(|Repo\.Run\("""
        + """|StartProcess\(|Executable\s*=\s*)"|Exec\s+Command=")([A-Za-z/][\w.+/-]*)""")]
    private static partial Regex Invocation();

    private static IReadOnlyList<string> AptPackages()
    {
        string script = File.ReadAllText(Repo.PathOf("build.sh"));
        var lists = Regex.Matches(script, "(?:APT|BENCH)_PACKAGES=\"([^\"]*)\"");
        Assert.True(lists.Count >= 1, "build.sh must define APT_PACKAGES=\"...\"");
        return lists.SelectMany(m => m.Groups[1].Value.Split((char[])[' ', '\n', '\t', '\\'], StringSplitOptions.RemoveEmptyEntries))
            .ToList();
    }

    private static IEnumerable<(string File, string Program)> Invocations()
    {
        var roots = new[] { "src", "tests", "examples" }.Select(d => Repo.PathOf(d)).Where(Directory.Exists);
        var files = roots.SelectMany(r => Directory.EnumerateFiles(r, "*", SearchOption.AllDirectories))
            .Where(f => f.EndsWith(".cs") || f.EndsWith(".csproj") || f.EndsWith(".targets") || f.EndsWith(".props"))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Append(Repo.PathOf("build.cake"));
        foreach (var file in files)
            foreach (Match m in Invocation().Matches(File.ReadAllText(file)))
                if (m.Groups[1].Value is not ("dotnet" or "program" or "info" or "path"))
                    yield return (Path.GetRelativePath(Repo.Root, file), m.Groups[1].Value);
    }

    [Fact]
    public void The_scan_finds_the_programs_we_know_the_code_uses()
    {
        var programs = Invocations().Select(i => i.Program).ToHashSet();
        Assert.Contains("glslc", programs);
        Assert.Contains("spirv-val", programs);
        Assert.Contains("ffmpeg", programs);
    }

    [Fact]
    public void Every_program_the_code_starts_is_installed_by_build_sh()
    {
        var packages = AptPackages();
        foreach (var (file, program) in Invocations())
        {
            Assert.True(PackageOf.TryGetValue(program, out var package),
                $"{file} starts '{program}', which is not in the program→package table of this test; " +
                "add it and put its package in build.sh.");
            Assert.True(packages.Contains(package), $"{file} starts '{program}' but build.sh does not install its package '{package}'.");
        }
    }

    [Fact]
    public void Build_sh_installs_every_package_toolchain_md_lists()
    {
        var packages = AptPackages();
        foreach (var p in new[]
                 {
                     "mesa-vulkan-drivers", "libvulkan1", "glslc", "spirv-tools", "vulkan-validationlayers", "libglfw3", "xvfb",
                     "xauth", "imagemagick", "xdotool", "ffmpeg", "fonts-dejavu-core", "fontconfig", "dataset-fashion-mnist",
                     "libonnx-testdata",
                 })
            Assert.Contains(p, packages);
    }
}
