using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using VulkanCnn.Imaging;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Imaging;

/// <summary>The one-pass GPU frame preprocessing (center crop and letterbox) against naive CPU references of
/// the same mapping, and against the CPU <see cref="ImagePreprocessor"/> where the two are meant to agree.</summary>
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
            ResizeShorterSide = resize,
            CropWidth = cropW,
            CropHeight = cropH,
            ChannelOrder = bgr ? ChannelOrder.Bgr : ChannelOrder.Rgb,
            Mean = mean,
            Std = std,
        };
        Tolerance.AssertClose(Expected(frame, w, h, ch, resize, cropW, cropH, bgr, mean, std), Run(frame, w, h, ch, options), Tolerance.Op);
    }

    private float[] Run(byte[] frame, int w, int h, int ch, ImagePreprocessOptions options)
    {
        using var output = Tensor.Create(Device, [1, 3, options.CropHeight, options.CropWidth]);
        using var pre = new GpuImagePreprocessor(Device, w, h, ch, options, output);
        pre.Upload(frame);
        using var rec = new CommandRecording(Device, "preprocess");
        rec.Dispatch(pre.Kernel);
        rec.Finish();
        rec.Run();
        return output.ToArray();
    }

    private static byte[] RandomFrame(int w, int h, int ch, int seed)
    {
        var frame = new byte[w * h * ch];
        new Random(seed).NextBytes(frame);
        return frame;
    }

    /// <summary>Letterbox written from its definition: scale s = min(W/w, H/h), the fitted side exact and the
    /// other round(size·s) half up, centred (odd bar pixel right/bottom), 2-tap bilinear with half-pixel
    /// centres and clamped edges inside, the pad value outside; then range and mean/std.</summary>
    private static float[] ExpectedLetterbox(byte[] px, int w, int h, int ch, int boxW, int boxH, bool bgr, int pad,
        double range, float[] mean, float[] std)
    {
        bool widthFits = (double)boxW / w <= (double)boxH / h;
        int iw = widthFits ? boxW : Math.Max(1, (int)Math.Floor(w * ((double)boxH / h) + 0.5));
        int ih = widthFits ? Math.Max(1, (int)Math.Floor(h * ((double)boxW / w) + 0.5)) : boxH;
        int ox = (boxW - iw) / 2, oy = (boxH - ih) / 2;
        double At(int x, int y, int c) => px[(Math.Clamp(y, 0, h - 1) * w + Math.Clamp(x, 0, w - 1)) * ch + c];
        var result = new float[3 * boxW * boxH];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < boxH; y++)
                for (int x = 0; x < boxW; x++)
                {
                    double v = pad;
                    if (x >= ox && x < ox + iw && y >= oy && y < oy + ih)
                    {
                        double sx = (x - ox + 0.5) * w / iw - 0.5, sy = (y - oy + 0.5) * h / ih - 0.5;
                        int x0 = (int)Math.Floor(sx), y0 = (int)Math.Floor(sy);
                        double fx = sx - x0, fy = sy - y0;
                        int src = bgr ? 2 - c : c;
                        v = (At(x0, y0, src) * (1 - fx) + At(x0 + 1, y0, src) * fx) * (1 - fy)
                          + (At(x0, y0 + 1, src) * (1 - fx) + At(x0 + 1, y0 + 1, src) * fx) * fy;
                    }
                    result[(c * boxH + y) * boxW + x] = (float)((v * range / 255 - mean[c]) / std[c]);
                }
        return result;
    }

    [Theory]
    [InlineData(37, 23, 3, 16, 16, false, 114, false)]  // wider: shrink, bars top and bottom
    [InlineData(9, 14, 4, 20, 18, true, 0, false)]      // taller: enlarge, bars left and right, RGBA frame, BGR output
    [InlineData(30, 20, 3, 15, 10, false, 114, false)]  // exact fit: no bars
    [InlineData(10, 3, 4, 4, 4, true, 255, true)]       // very wide: a 1-pixel image row, bars 1 above and 2 below, 0..255
    [InlineData(6, 11, 3, 13, 7, false, 114, true)]     // taller, odd bar split, 0..255
    public void Letterbox_matches_the_reference(int w, int h, int ch, int boxW, int boxH, bool bgr, int pad, bool range255)
    {
        byte[] frame = RandomFrame(w, h, ch, w * 17 + h);
        float[] mean = range255 ? [103.9f, 116.8f, 123.7f] : [0.485f, 0.456f, 0.406f];
        float[] std = range255 ? [1, 2, 1] : [0.229f, 0.224f, 0.225f];
        var options = new ImagePreprocessOptions
        {
            Fit = ImageFit.Letterbox,
            CropWidth = boxW,
            CropHeight = boxH,
            PadValue = pad,
            ChannelOrder = bgr ? ChannelOrder.Bgr : ChannelOrder.Rgb,
            Range = range255 ? PixelRange.ZeroTo255 : PixelRange.ZeroToOne,
            Mean = mean,
            Std = std,
        };
        float[] expected = ExpectedLetterbox(frame, w, h, ch, boxW, boxH, bgr, pad, range255 ? 255 : 1, mean, std);
        Tolerance.AssertClose(expected, Run(frame, w, h, ch, options), Tolerance.Op, "letterbox");
    }

    [Theory]
    [InlineData(37, 23, 16, 16, ImageFit.Letterbox, false)]  // shrinking: the CPU path without antialiasing
    [InlineData(9, 14, 20, 18, ImageFit.Letterbox, true)]    // enlarging: antialiasing changes nothing
    [InlineData(30, 20, 15, 10, ImageFit.Letterbox, false)]  // exact fit
    [InlineData(32, 24, 10, 8, ImageFit.CenterCrop, false)]  // resize 12 gives exactly 16x12 on both paths
    public void Gpu_and_cpu_preprocessing_agree(int w, int h, int boxW, int boxH, ImageFit fit, bool antialias)
    {
        byte[] frame = RandomFrame(w, h, 3, w + h);
        var options = ImagePreprocessOptions.ImageNet with
        {
            Fit = fit,
            ResizeShorterSide = 12,
            CropWidth = boxW,
            CropHeight = boxH,
            Antialias = antialias,
            PadValue = 70,
            ChannelOrder = ChannelOrder.Bgr,
        };
        using var image = Image.LoadPixelData<Rgb24>(frame, w, h);
        var cpu = ImagePreprocessor.Preprocess(image, options);
        Assert.Equal(new TensorShape(1, 3, boxH, boxW), cpu.Shape);
        Tolerance.AssertClose(cpu.Data, Run(frame, w, h, 3, options), Tolerance.Op, $"{fit} GPU vs CPU");
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

        var letterbox = options with { Fit = ImageFit.Letterbox };
        Assert.Contains("Letterbox needs", Assert.Throws<ArgumentException>(() =>
            new GpuImagePreprocessor(Device, 8, 8, 3, letterbox with { CropHeight = 0 }, output)).Message);
        Assert.Contains("PadValue is 256", Assert.Throws<ArgumentException>(() =>
            new GpuImagePreprocessor(Device, 8, 8, 3, letterbox with { PadValue = 256 }, output)).Message);
        Assert.Contains("[1, 3, 4, 6]", Assert.Throws<ArgumentException>(() =>
            new GpuImagePreprocessor(Device, 8, 8, 3, letterbox with { CropWidth = 6 }, output)).Message);
    }
}
