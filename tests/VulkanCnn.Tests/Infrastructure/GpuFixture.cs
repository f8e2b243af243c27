using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Infrastructure;

/// <summary>
/// The devices the whole suite shares (instance creation costs 150–350 ms on lavapipe): one with
/// mapped tensors, one that forces every transfer through staging buffers. Both run with the
/// validation layer and synchronization validation on.
/// </summary>
public sealed class GpuFixture : IDisposable
{
    public GpuFixture()
    {
        CacheDirectory = Path.Combine(Path.GetTempPath(), "vkcnn-tests-" + Environment.ProcessId, "pipelines");
        Mapped = Create(forceStaging: false);
        Staging = Create(forceStaging: true);
    }

    public string CacheDirectory { get; }
    public GpuDevice Mapped { get; }
    public GpuDevice Staging { get; }

    public GpuDevice Get(TensorPath path) => path == TensorPath.Staging ? Staging : Mapped;

    /// <summary>A new device with validation on; the caller disposes it.</summary>
    public GpuDevice Create(bool forceStaging = false, string? cacheDirectory = null, Action<string>? log = null) =>
        GpuDevice.Create(new GpuDeviceOptions
        {
            Validation = true,
            ForceStaging = forceStaging,
            PipelineCacheDirectory = cacheDirectory ?? CacheDirectory,
            Log = log ?? (_ => { }),
        });

    public void Dispose()
    {
        Mapped.Dispose();
        Staging.Dispose();
        try { Directory.Delete(Path.GetDirectoryName(CacheDirectory)!, recursive: true); } catch (IOException) { }
    }
}

/// <summary>How tensors reach the GPU in a test case.</summary>
public enum TensorPath { Mapped, Staging }

[CollectionDefinition(Name)]
public sealed class GpuCollection : ICollectionFixture<GpuFixture>
{
    /// <summary>GPU tests run one after another: lavapipe has one queue and the machine two cores.</summary>
    public const string Name = "gpu";
}

/// <summary>
/// Base of every test that touches the GPU: fails the test when the validation layer reported
/// an error on a shared device while it ran.
/// </summary>
[Collection(GpuCollection.Name)]
public abstract class GpuTest : IDisposable
{
    private readonly int _mappedMark, _stagingMark;

    protected GpuTest(GpuFixture gpu)
    {
        Gpu = gpu;
        _mappedMark = gpu.Mapped.Validation!.ErrorCount;
        _stagingMark = gpu.Staging.Validation!.ErrorCount;
    }

    protected GpuFixture Gpu { get; }
    protected GpuDevice Device => Gpu.Mapped;

    public static TheoryData<TensorPath> BothPaths => new() { TensorPath.Mapped, TensorPath.Staging };

    public virtual void Dispose()
    {
        var errors = Gpu.Mapped.Validation!.ErrorsSince(_mappedMark).Concat(Gpu.Staging.Validation!.ErrorsSince(_stagingMark)).ToList();
        Assert.True(errors.Count == 0, "Vulkan validation errors:\n" + string.Join("\n", errors));
        GC.SuppressFinalize(this);
    }
}
