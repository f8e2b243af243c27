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

/// <summary>Image folders for the CLI's training commands: DIR/{train,test}/&lt;class&gt;/N.png, each class a noisy grey level.
/// </summary>
public static class TestImageFolders
{
    public static void Write(string root, (string Class, int Shade)[] classes, int perClass, int size, int seed)
    {
        var rng = new Random(seed);
        foreach (var (cls, shade) in classes)
            foreach (var split in new[] { "train", "test" })
            {
                Directory.CreateDirectory(Path.Combine(root, split, cls));
                for (int i = 0; i < perClass; i++)
                {
                    using var img = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(size, size);
                    for (int y = 0; y < size; y++)
                        for (int x = 0; x < size; x++)
                        {
                            byte v = (byte)(shade + rng.Next(-30, 30));
                            img[x, y] = new(v, v, v);
                        }
                    SixLabors.ImageSharp.ImageExtensions.SaveAsPng(img, Path.Combine(root, split, cls, $"{i}.png"));
                }
            }
    }
}
