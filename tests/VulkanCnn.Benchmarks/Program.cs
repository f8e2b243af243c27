using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using VulkanCnn.Benchmarks;

// ./build.sh bench [--filter PATTERN]: short jobs suited to a slow device (lavapipe), run in
// process; results are written as JSON per device under results/<device>/ for later comparison.
string resultsDir = "results";
var bdnArgs = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--results" && i + 1 < args.Length) resultsDir = args[++i];
    else bdnArgs.Add(args[i]);
}

var job = Job.Default
    .WithToolchain(InProcessEmitToolchain.Instance)
    .WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(8)
    .WithUnrollFactor(1).WithInvocationCount(1);
var config = DefaultConfig.Instance
    .AddJob(job)
    .AddColumn(new ThroughputColumn())
    .AddColumn(new PeakRatioColumn())
    .AddExporter(JsonExporter.Full)
    .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "vkcnn-bdn"))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator | ConfigOptions.JoinSummary);

var summaries = BenchmarkSwitcher.FromAssembly(typeof(ThroughputColumn).Assembly).Run(bdnArgs.ToArray(), config).ToList();
ResultsWriter.Write(summaries, resultsDir);
