// VulkanCnn build script. Run through ./build.sh TARGET (installs prerequisites first).
// Targets: build, test, bench, demo, pack, publish, publish-tests, clean.
using System.Xml.Linq;

var target = Argument("target", "build");
var configuration = Argument("configuration", "Release");
var benchFilter = Argument("filter", "*");
var runtime = Argument("runtime", "linux-x64");
var root = MakeAbsolute(Directory("."));
var solution = root.CombineWithFilePath("VulkanCnn.sln").FullPath;
var artifacts = root.Combine("artifacts");
var cli = root.CombineWithFilePath("src/VulkanCnn.Cli/VulkanCnn.Cli.csproj").FullPath;

Task("clean").Does(() =>
{
    CleanDirectories(GetDirectories("./src/*/bin").Concat(GetDirectories("./src/*/obj"))
        .Concat(GetDirectories("./tests/*/bin")).Concat(GetDirectories("./tests/*/obj")));
    CleanDirectory(artifacts);
});

Task("build").Does(() =>
    DotNetBuild(solution, new DotNetBuildSettings { Configuration = configuration }));

Task("test").IsDependentOn("build").Does(() =>
{
    var results = artifacts.Combine("test-results");
    CleanDirectory(results);
    // The code style (.editorconfig) is part of the suite: a formatting difference counts as a failed check.
    int format = StartProcess("dotnet", new ProcessSettings
    {
        Arguments = $"format \"{solution}\" --verify-no-changes --no-restore --verbosity quiet",
    });
    if (format != 0) Error("dotnet format --verify-no-changes found differences; run `dotnet format VulkanCnn.sln` and commit the result.");
    Exception failure = null;
    try
    {
        DotNetTest(solution, new DotNetTestSettings
        {
            Configuration = configuration, NoBuild = true, NoRestore = true,
            ResultsDirectory = results, Loggers = new[] { "trx" },
            // The whole suite runs with the Khronos validation layer (and sync validation) on.
            EnvironmentVariables = new Dictionary<string, string> { ["VKCNN_VALIDATION"] = "1" },
        });
    }
    catch (Exception e) { failure = e; }
    Summarize(results, failure != null, format != 0 ? 1 : 0);
    if (failure != null) throw failure;
    if (format != 0) throw new Exception("dotnet format --verify-no-changes failed");
});

Task("bench").IsDependentOn("build").Does(() =>
    DotNetRun(root.CombineWithFilePath("tests/VulkanCnn.Benchmarks/VulkanCnn.Benchmarks.csproj").FullPath,
        new ProcessArgumentBuilder().Append("--filter").AppendQuoted(benchFilter)
            .Append("--results").AppendQuoted(root.Combine("results").FullPath),
        new DotNetRunSettings { Configuration = configuration, NoBuild = true, NoRestore = true }));

Task("build-cli").Does(() =>
    DotNetBuild(cli, new DotNetBuildSettings { Configuration = configuration }));

Task("demo").IsDependentOn("build-cli").Does(() =>
    DotNetRun(cli, new ProcessArgumentBuilder().Append("demo"),
        new DotNetRunSettings { Configuration = configuration, NoBuild = true, NoRestore = true }));

Task("pack").Does(() =>
{
    var output = artifacts.Combine("packages");
    CleanDirectory(output);
    foreach (var project in new[] { "VulkanCnn", "VulkanCnn.Onnx", "VulkanCnn.Imaging" })
        DotNetPack(root.CombineWithFilePath($"src/{project}/{project}.csproj").FullPath,
            new DotNetPackSettings { Configuration = configuration, OutputDirectory = output });
    Information("Packages written to {0}", output);
});

// A self-contained vkcnn for a machine without .NET (a GPU box): trimmed where the framework allows it.
Task("publish").Does(() =>
{
    var output = artifacts.Combine("publish").Combine(runtime);
    CleanDirectory(output);
    DotNetPublish(cli, new DotNetPublishSettings
    {
        Configuration = configuration, Runtime = runtime, SelfContained = true, OutputDirectory = output,
        MSBuildSettings = new DotNetMSBuildSettings()
            .WithProperty("PublishTrimmed", "true").WithProperty("TrimMode", "partial")
            .WithProperty("SuppressTrimAnalysisWarnings", "true"),
    });
    Information("vkcnn for {0} written to {1}", runtime, output);
});

// The test suite as a self-contained executable (tests/VulkanCnn.Tests/Infrastructure/StandaloneRunner.cs)
// for a machine with a GPU but no SDK: extract it inside a checkout and run ./VulkanCnn.Tests [--include A,B] [--exclude C].
Task("publish-tests").Does(() =>
{
    var output = artifacts.Combine("publish-tests").Combine(runtime);
    CleanDirectory(output);
    DotNetPublish(root.CombineWithFilePath("tests/VulkanCnn.Tests/VulkanCnn.Tests.csproj").FullPath, new DotNetPublishSettings
    {
        Configuration = configuration, Runtime = runtime, SelfContained = true, OutputDirectory = output,
        MSBuildSettings = new DotNetMSBuildSettings().WithProperty("UseAppHost", "true"),
    });
    Information("Tests for {0} written to {1}", runtime, output);
});

// Prints the ten slowest tests and the "N passed, N failed, N skipped" line, and writes that
// line to artifacts/test-results/summary.txt for .ci/run.
void Summarize(DirectoryPath results, bool runFailed, int otherFailures)
{
    XNamespace ns = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";
    var tests = GetFiles(results.FullPath + "/**/*.trx")
        .SelectMany(f => XDocument.Load(f.FullPath).Descendants(ns + "UnitTestResult"))
        .Select(r => new
        {
            Name = (string)r.Attribute("testName"),
            Outcome = (string)r.Attribute("outcome"),
            Duration = r.Attribute("duration") is { } d ? TimeSpan.Parse(d.Value) : TimeSpan.Zero,
        })
        .ToList();
    int passed = tests.Count(t => t.Outcome == "Passed");
    int skipped = tests.Count(t => t.Outcome == "NotExecuted");
    int failed = tests.Count - passed - skipped + otherFailures;
    if (runFailed && failed == 0)
    {
        Warning("The test run failed without a failed test result (test host crash or build error).");
        failed = 1;
    }
    Information("");
    Information("10 slowest tests:");
    foreach (var t in tests.OrderByDescending(t => t.Duration).Take(10))
        Information("  {0,8:0.000} s  {1}", t.Duration.TotalSeconds, t.Name);
    var line = $"{passed} passed, {failed} failed, {skipped} skipped";
    Information(line);
    System.IO.File.WriteAllText(results.CombineWithFilePath("summary.txt").FullPath, line + Environment.NewLine);
}

RunTarget(target);
