using VulkanCnn.Tests.Infrastructure;

namespace VulkanCnn.Tests.Build;

/// <summary>What the formatter does not check: C# lines of at most 140 characters (.editorconfig's max_line_length).
/// The rest of the style is <c>dotnet format --verify-no-changes</c>, which <c>./build.sh test</c> runs.</summary>
public sealed class CodeStyleTests
{
    private const int MaxLineLength = 140;

    [Fact]
    public void Every_csharp_line_fits_in_140_characters()
    {
        var sep = Path.DirectorySeparatorChar;
        var files = new[] { "src", "tests", "examples" }.Select(d => Repo.PathOf(d))
            .SelectMany(root => Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{sep}obj{sep}") && !f.Contains($"{sep}bin{sep}"))
            .ToList();
        Assert.True(files.Count > 300, $"only {files.Count} C# files found under {Repo.Root}");
        var tooLong = files
            .SelectMany(f => File.ReadAllLines(f).Select((line, i) => (File: f, Line: i + 1, line.Length)))
            .Where(l => l.Length > MaxLineLength)
            .Select(l => $"{Path.GetRelativePath(Repo.Root, l.File)}:{l.Line} ({l.Length} characters)")
            .ToList();
        Assert.True(tooLong.Count == 0,
            $"{tooLong.Count} lines are longer than {MaxLineLength} characters:\n" + string.Join("\n", tooLong.Take(40)));
    }
}
