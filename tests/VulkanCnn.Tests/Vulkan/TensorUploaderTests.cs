using System.Runtime.InteropServices;
using VulkanCnn.Imaging;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Vulkan;

/// <summary>TensorUploader and FramePixels on both memory paths: repeated uploads land exactly and allocate nothing.</summary>
public sealed class TensorUploaderTests(GpuFixture gpu) : GpuTest(gpu)
{
    private static byte[] Bytes(int count, int seed)
    {
        var b = new byte[count];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static byte[] Contents(Tensor t) => MemoryMarshal.AsBytes(t.ToArray().AsSpan()).ToArray();

    [Theory]
    [MemberData(nameof(BothPaths))]
    public void Repeated_uploads_land_exactly_without_allocating(TensorPath path)
    {
        var device = Gpu.Get(path);
        using var tensor = Tensor.Create(device, [37], "uploaded", DataType.Int32);
        using var uploader = new TensorUploader(tensor);
        Assert.Equal(path == TensorPath.Staging, uploader.UsesStaging);
        uploader.Upload(Bytes(37 * 4, 0));
        int objects = device.LiveObjectCount, blocks = device.MemoryBlockCount;

        for (int i = 1; i <= 5; i++)
        {
            var data = Bytes(37 * 4, i);
            uploader.Upload(data);
            Assert.Equal(data, Contents(tensor));
        }
        Assert.Equal(objects, device.LiveObjectCount);
        Assert.Equal(blocks, device.MemoryBlockCount);

        // A shorter upload replaces its prefix and leaves the rest as it was.
        var before = Contents(tensor);
        uploader.Upload(new byte[8]);
        Assert.Equal([.. new byte[8], .. before[8..]], Contents(tensor));

        var e = Assert.Throws<ArgumentException>(() => uploader.Upload(new byte[37 * 4 + 1]));
        Assert.Contains("'uploaded'", e.Message);
    }

    [Theory]
    [MemberData(nameof(BothPaths))]
    public void Frame_pixels_keep_each_frame_and_zero_the_last_words_padding(TensorPath path)
    {
        var device = Gpu.Get(path);
        using var pixels = new FramePixels(device, 5, 3); // 45 bytes in 12 words: 3 bytes of padding
        foreach (int seed in new[] { 1, 2 })
        {
            var frame = Bytes(45, seed);
            pixels.Upload(frame);
            var words = Contents(pixels.Tensor);
            Assert.Equal(frame, words[..45]);
            Assert.Equal(new byte[3], words[45..]);
        }
        Assert.Throws<ArgumentException>(() => pixels.Upload(new byte[44]));
    }
}
