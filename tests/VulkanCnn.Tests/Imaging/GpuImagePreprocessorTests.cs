using VulkanCnn.Imaging;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Imaging;

/// <summary>The one-pass GPU frame preprocessing against a naive CPU reference of the same mapping.</summary>
public sealed class GpuImagePreprocessorTests(GpuFixture gpu) : GpuTest(gpu)
{
    private static float[] Expected(byte[] px, int w, int h, int ch, int resize, int cropW, int cropH, bool bgr, float[] mean, float[] std)
    {
        double scale = (double)resize / Math.Min(w, h);
        double offX = Math.Floor((Math.Round(w * scale) - cropW) / 2), offY = Math.Floor((Math.Round(h * scale) - cropH) / 2);
        double At(int x, int y, int c) => px[(Math.Clamp(y, 0, h - 1) * w + Math.Clamp(x, 0, w - 1)) * ch + c];
        var result = new float[3 * cropW * cropH];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < cropH; y++)
                for (int x = 0; x < cropW; x++)
                {
                    double sx = (x + offX + 0.5) / scale - 0.5, sy = (y + offY + 0.5) / scale - 0.5;
                    int x0 = (int)Math.Floor(sx), y0 = (int)Math.Floor(sy);
                    double fx = sx - x0, fy = sy - y0;
                    int src = bgr ? 2 - c : c;
                    double v = ((At(x0, y0, src) * (1 - fx) + At(x0 + 1, y0, src) * fx) * (1 - fy)
                              + (At(x0, y0 + 1, src) * (1 - fx) + At(x0 + 1, y0 + 1, src) * fx) * fy) / 255;
                    result[(c * cropH + y) * cropW + x] = (float)((v - mean[c]) / std[c]);
                }
        return result;
    }

    [Theory]
    [InlineData(37, 23, 3, 16, 12, 10, false)]  // downscale, non-square crop, RGB
    [InlineData(9, 14, 4, 20, 18, 20, true)]    // upscale, RGBA frame, BGR output
    [InlineData(16, 16, 3, 16, 16, 16, false)]  // identity geometry
    public void Resize_crop_normalise_and_layout_match_the_reference(int w, int h, int ch, int resize, int cropW, int cropH, bool bgr)
    {
        var rng = new Random(w * 100 + h);
        var frame = new byte[w * h * ch];
        rng.NextBytes(frame);
        float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
        var options = new ImagePreprocessOptions
        {
            ResizeShorterSide = resize, CropWidth = cropW, CropHeight = cropH, ChannelOrder = bgr ? ChannelOrder.Bgr : ChannelOrder.Rgb, Mean = mean, Std = std,
        };
        using var output = Tensor.Create(Device, [1, 3, cropH, cropW]);
        using var pre = new GpuImagePreprocessor(Device, w, h, ch, options, output);
        pre.Upload(frame);
        using var rec = new CommandRecording(Device, "preprocess");
        rec.Dispatch(pre.Kernel);
        rec.Finish();
        rec.Run();
        Tolerance.AssertClose(Expected(frame, w, h, ch, resize, cropW, cropH, bgr, mean, std), output.ToArray(), Tolerance.Op);
    }

    [Fact]
    public void Bad_frames_and_shapes_are_clear_errors()
    {
        using var output = Tensor.Create(Device, [1, 3, 4, 4]);
        var options = new ImagePreprocessOptions { ResizeShorterSide = 4, CropWidth = 4, CropHeight = 4 };
        Assert.Throws<ArgumentException>(() => new GpuImagePreprocessor(Device, 8, 8, 3, options with { CropWidth = 5 }, output));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GpuImagePreprocessor(Device, 8, 8, 2, options, output));
        using var pre = new GpuImagePreprocessor(Device, 8, 8, 3, options, output);
        var e = Assert.Throws<ArgumentException>(() => pre.Upload(new byte[10]));
        Assert.Contains("192 bytes", e.Message);
    }
}
