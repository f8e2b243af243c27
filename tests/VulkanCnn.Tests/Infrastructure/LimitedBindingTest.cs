using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Infrastructure;

/// <summary>
/// A GPU test that also has a device of its own whose storage-buffer binding limit is lowered
/// (<see cref="GpuDeviceOptions.MaxBufferBytes"/>), so that splitting tensors across buffers runs on small shapes. Validation is
/// on there too, and its errors fail the test.
/// </summary>
public abstract class LimitedBindingTest(GpuFixture gpu, ulong limit) : GpuTest(gpu)
{
    private GpuDevice? _small;

    /// <summary>The lowered binding limit.</summary>
    protected ulong Limit { get; } = limit;

    protected GpuDevice Small => _small ??= GpuDevice.Create(new GpuDeviceOptions
    {
        Validation = true,
        MaxBufferBytes = Limit,
        PipelineCacheDirectory = Gpu.CacheDirectory,
        Log = _ => { },
    });

    public override void Dispose()
    {
        var errors = _small?.Validation!.ErrorsSince(0).ToList() ?? [];
        _small?.Dispose();
        Assert.True(errors.Count == 0, "Vulkan validation errors:\n" + string.Join("\n", errors));
        base.Dispose();
    }
}
