using BenchmarkDotNet.Attributes;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Benchmarks;

/// <summary>
/// Pipeline creation with the on-disk cache off (cold) and warm (hit). Time Mesa's own cold
/// start with MESA_SHADER_CACHE_DISABLE=true in the environment; on lavapipe the VkPipelineCache
/// blob is only a header, so the hit gains little there — the speed-up shows on real GPUs.
/// </summary>
public class PipelineCreationBenchmarks : IDisposable
{
    private GpuDevice _gpu = null!;
    private string _dir = null!;

    [Params(false, true)]
    public bool DiskCache { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "vkcnn-bench-cache-" + Environment.ProcessId);
        _gpu = BenchmarkDevice.Create(disableCache: !DiskCache, cacheDirectory: _dir);
        Create().Destroy(); // writes the file the hit case reads
    }

    private ComputePipeline Create() => new(_gpu, new PipelineKey("matmul_naive", 3, 12, 8, 8));

    [Benchmark(Description = "create matmul_naive pipeline")]
    public void CreatePipeline() => Create().Destroy();

    [GlobalCleanup]
    public void Dispose()
    {
        _gpu?.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
        GC.SuppressFinalize(this);
    }
}
