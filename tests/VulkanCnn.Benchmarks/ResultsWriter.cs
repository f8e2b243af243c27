using BenchmarkDotNet.Reports;
using System.Text.Json;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Benchmarks;

/// <summary>Writes one JSON file per run under results/&lt;device&gt;/ so later runs can be compared.</summary>
public static class ResultsWriter
{
    public static void Write(IReadOnlyList<Summary> summaries, string resultsDir)
    {
        var rows = summaries.SelectMany(s => s.BenchmarksCases.Select(c => new
        {
            benchmark = c.Descriptor.Type.Name + "." + c.Descriptor.WorkloadMethod.Name,
            parameters = c.Parameters.Items.ToDictionary(p => p.Name, p => p.Value?.ToString()),
            meanMs = s[c]?.ResultStatistics?.Mean / 1e6,
            medianMs = s[c]?.ResultStatistics?.Median / 1e6,
            minMs = s[c]?.ResultStatistics?.Min / 1e6,
            throughput = ThroughputColumn.Compute(s, c) is { } t ? $"{t.Value:0.###} {t.Unit}" : null,
        })).ToList();
        if (rows.Count == 0) return;

        var device = BenchmarkDevice.Info;
        string slug = new string(device.Name.Select(ch => char.IsLetterOrDigit(ch) ? char.ToLowerInvariant(ch) : '-').ToArray()).Trim('-');
        while (slug.Contains("--")) slug = slug.Replace("--", "-");
        string dir = Path.Combine(resultsDir, slug);
        Directory.CreateDirectory(dir);
        string file = Path.Combine(dir, $"{DateTime.UtcNow:yyyyMMdd-HHmmss}.json");
        var report = new
        {
            device = new { device.Name, device.Type, device.DriverName, device.DriverInfo, device.ApiVersion },
            machine = new { Environment.MachineName, Environment.ProcessorCount, os = Environment.OSVersion.ToString() },
            utc = DateTime.UtcNow,
            results = rows,
        };
        File.WriteAllText(file, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"Results written to {Path.GetFullPath(file)}");
    }
}

/// <summary>The device every benchmark class runs on (VKCNN_DEVICE picks another).</summary>
public static class BenchmarkDevice
{
    private static readonly Lazy<DeviceInfo> Lazy = new(() => DeviceSelector.Choose(GpuDevice.EnumerateDevices(),
        Environment.GetEnvironmentVariable("VKCNN_DEVICE")));

    public static DeviceInfo Info => Lazy.Value;

    public static GpuDevice Create(bool forceStaging = false, bool disableCache = false, string? cacheDirectory = null) =>
        GpuDevice.Create(new GpuDeviceOptions
        {
            ForceStaging = forceStaging,
            DisablePipelineCache = disableCache,
            PipelineCacheDirectory = cacheDirectory
        });
}
