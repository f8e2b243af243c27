using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Training;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Training;

/// <summary>The GPU augmentation kernel against a CPU reference of the documented (seed, step, sample) hash.</summary>
public sealed class AugmentationTests(GpuFixture gpu) : GpuTest(gpu)
{
    private static uint Mix(uint h)
    {
        h ^= h >> 16; h *= 0x85EBCA6Bu; h ^= h >> 13; h *= 0xC2B2AE35u; h ^= h >> 16;
        return h;
    }

    private static float[] Expected(float[] src, int n, int c, int h, int w, int pad, bool flip, uint seed, float fill, int step)
    {
        var dst = new float[src.Length];
        for (int b = 0; b < n; b++)
        {
            uint hash = unchecked(Mix(Mix(seed ^ Mix((uint)step + 0x9E3779B9u)) + (uint)b));
            int span = 2 * pad + 1;
            int dx = (int)(hash % (uint)span) - pad, dy = (int)((hash >> 8) % (uint)span) - pad;
            bool flipped = flip && ((hash >> 16) & 1) != 0;
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                    {
                        int sx = (flipped ? w - 1 - x : x) + dx, sy = y + dy;
                        bool inside = sx >= 0 && sy >= 0 && sx < w && sy < h;
                        dst[((b * c + ch) * h + y) * w + x] = inside ? src[((b * c + ch) * h + sy) * w + sx] : fill;
                    }
        }
        return dst;
    }

    [Theory]
    [InlineData(2, true, 7)]
    [InlineData(3, false, 8)]
    [InlineData(0, true, 9)]
    public void Crops_and_flips_match_the_reference(int pad, bool flip, int step)
    {
        var src = Reference.Random(5 * 3 * 5 * 6, 1);
        using var x = Tensor.FromData(Device, [5, 3, 5, 6], src);
        using var y = Tensor.Create(Device, [5, 3, 5, 6]);
        using var stepTensor = Tensor.FromData(Device, [1], [BitConverter.Int32BitsToSingle(step)]);
        var augmentation = new Augmentation(pad, flip, Seed: 11, Fill: -1);
        using var kernel = augmentation.Bind(x, y, stepTensor);
        using var rec = new CommandRecording(Device, "augment");
        rec.Dispatch(kernel);
        rec.Finish();
        rec.Run();
        var expected = Expected(src, 5, 3, 5, 6, pad, flip, 11, -1, step);
        Assert.Equal(expected, y.ToArray());
        if (pad > 0) Assert.Contains(-1f, expected); // some padding was drawn
        Assert.NotEqual(expected, Expected(src, 5, 3, 5, 6, pad, flip, 11, -1, step + 1)); // a new step draws anew
    }
}
