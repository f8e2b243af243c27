using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using VulkanCnn.Imaging;
using VulkanCnn.Tests.Infrastructure;

namespace VulkanCnn.Tests.Imaging;

/// <summary>Preprocessing against naive references written here: decode, bilinear resize (with and without
/// antialiasing), center crop, scaling, normalisation and channel order.</summary>
public sealed class ImagePreprocessorTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vkcnn-img-" + Guid.NewGuid().ToString("N"));

    public ImagePreprocessorTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static string Photo(string name) => Repo.PathOf("tests", "assets", "images", name);

    public static readonly string[] Photos = ["astronaut_256.png", "chelsea.png", "coffee_300x200.png", "rocket.jpg"];

    private static byte[] RandomRgb(int width, int height, int seed)
    {
        var rgb = new byte[width * height * 3];
        new Random(seed).NextBytes(rgb);
        return rgb;
    }

    private string Png(byte[] rgb, int width, int height)
    {
        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".png");
        using var image = Image.LoadPixelData<Rgb24>(rgb, width, height);
        image.SaveAsPng(path);
        return path;
    }

    private static readonly ImagePreprocessOptions Raw = new()
    {
        ResizeShorterSide = 0,
        CropWidth = 0,
        CropHeight = 0,
        Range = PixelRange.ZeroTo255,
    };

    // Pixel (x, y) channel c of interleaved RGB as double.
    private static double At(byte[] rgb, int width, int x, int y, int c) => rgb[(y * width + x) * 3 + c];

    /// <summary>torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=False).</summary>
    private static double[] ReferenceBilinear(byte[] rgb, int w, int h, int ow, int oh)
    {
        var output = new double[3 * oh * ow];
        for (int c = 0; c < 3; c++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    double sy = Math.Max(0, (oy + 0.5) * h / oh - 0.5), sx = Math.Max(0, (ox + 0.5) * w / ow - 0.5);
                    int y0 = Math.Min((int)sy, h - 1), x0 = Math.Min((int)sx, w - 1);
                    int y1 = Math.Min(y0 + 1, h - 1), x1 = Math.Min(x0 + 1, w - 1);
                    double ly = sy - y0, lx = sx - x0;
                    if (y0 == h - 1) ly = 0;
                    if (x0 == w - 1) lx = 0;
                    double top = At(rgb, w, x0, y0, c) * (1 - lx) + At(rgb, w, x1, y0, c) * lx;
                    double bottom = At(rgb, w, x0, y1, c) * (1 - lx) + At(rgb, w, x1, y1, c) * lx;
                    output[(c * oh + oy) * ow + ox] = top * (1 - ly) + bottom * ly;
                }
        return output;
    }

    /// <summary>PIL's antialiased bilinear: a triangle filter of radius max(1, in/out) around each output
    /// center, over every source pixel, normalised along each axis.</summary>
    private static double[] ReferenceAntialiased(byte[] rgb, int w, int h, int ow, int oh)
    {
        static double[] Axis(int inSize, int outSize, int o)
        {
            double scale = (double)inSize / outSize, radius = Math.Max(1, scale), center = (o + 0.5) * scale;
            var weights = new double[inSize];
            for (int i = 0; i < inSize; i++) weights[i] = Math.Max(0, 1 - Math.Abs(i + 0.5 - center) / radius);
            double total = weights.Sum();
            return weights.Select(v => v / total).ToArray();
        }
        var output = new double[3 * oh * ow];
        for (int oy = 0; oy < oh; oy++)
        {
            double[] wy = Axis(h, oh, oy);
            for (int ox = 0; ox < ow; ox++)
            {
                double[] wx = Axis(w, ow, ox);
                for (int c = 0; c < 3; c++)
                {
                    double sum = 0;
                    for (int y = 0; y < h; y++)
                        for (int x = 0; x < w; x++) sum += wy[y] * wx[x] * At(rgb, w, x, y, c);
                    output[(c * oh + oy) * ow + ox] = sum;
                }
            }
        }
        return output;
    }

    private static float[] ToFloat(double[] v) => Array.ConvertAll(v, x => (float)x);

    [Fact]
    public void Decoding_without_resize_gives_the_pixels_in_NCHW_order()
    {
        const int w = 7, h = 5;
        byte[] rgb = RandomRgb(w, h, 1);
        var result = ImagePreprocessor.Load(Png(rgb, w, h), Raw);
        Assert.Equal(new TensorShape(1, 3, h, w), result.Shape);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    Assert.Equal(At(rgb, w, x, y, c), result.Data[(c * h + y) * w + x]);
    }

    [Theory]
    [InlineData(7, 5, 11)]   // upscale, landscape: 15x11
    [InlineData(5, 9, 13)]   // upscale, portrait: 13x23
    [InlineData(23, 17, 6)]  // downscale: 8x6
    [InlineData(12, 12, 5)]  // square, non-integer factor
    public void Bilinear_resize_without_antialias_matches_the_reference(int w, int h, int shorter)
    {
        byte[] rgb = RandomRgb(w, h, w * 100 + h);
        var (ow, oh) = ImagePreprocessor.ResizedSize(w, h, shorter);
        var result = ImagePreprocessor.Load(Png(rgb, w, h), Raw with { ResizeShorterSide = shorter, Antialias = false });
        Assert.Equal(new TensorShape(1, 3, oh, ow), result.Shape);
        Tolerance.AssertClose(ToFloat(ReferenceBilinear(rgb, w, h, ow, oh)), result.Data, Tolerance.Op, "bilinear resize");
    }

    [Theory]
    [InlineData(23, 17, 6)]  // shrink by ~2.8
    [InlineData(40, 9, 4)]   // shrink by 2.25, very wide
    [InlineData(7, 5, 11)]   // enlarging: antialiasing changes nothing
    public void Antialiased_resize_matches_the_triangle_filter_reference(int w, int h, int shorter)
    {
        byte[] rgb = RandomRgb(w, h, w * 31 + h);
        var (ow, oh) = ImagePreprocessor.ResizedSize(w, h, shorter);
        var result = ImagePreprocessor.Load(Png(rgb, w, h), Raw with { ResizeShorterSide = shorter, Antialias = true });
        Tolerance.AssertClose(ToFloat(ReferenceAntialiased(rgb, w, h, ow, oh)), result.Data, Tolerance.Op, "antialiased resize");
        if (shorter > Math.Min(w, h))
            Tolerance.AssertClose(ToFloat(ReferenceBilinear(rgb, w, h, ow, oh)), result.Data, Tolerance.Op, "enlarging");
    }

    [Theory]
    [InlineData(500, 333, 256, 384, 256)]
    [InlineData(333, 500, 256, 256, 384)]
    [InlineData(451, 300, 256, 384, 256)]  // 384.85 truncated, as torchvision
    [InlineData(100, 100, 0, 100, 100)]
    public void Shorter_side_resize_truncates_the_longer_side(int w, int h, int shorter, int ow, int oh) =>
        Assert.Equal((ow, oh), ImagePreprocessor.ResizedSize(w, h, shorter));

    [Theory]
    [InlineData(9, 7, 4, 4, 2, 2)]    // (9-4)/2 = 2.5 -> 2 and (7-4)/2 = 1.5 -> 2: ties to even, as torchvision
    [InlineData(10, 7, 5, 2, 2, 2)]   // 2.5 -> 2, 2.5 -> 2
    [InlineData(11, 8, 4, 3, 4, 2)]   // 3.5 -> 4, 2.5 -> 2
    [InlineData(6, 6, 6, 1, 0, 2)]    // 0 and 2.5 -> 2
    public void Center_crop_takes_the_exact_window(int w, int h, int cw, int ch, int x0, int y0)
    {
        Assert.Equal((x0, y0), ImagePreprocessor.CropOrigin(w, h, cw, ch));
        byte[] rgb = RandomRgb(w, h, 7);
        var result = ImagePreprocessor.Load(Png(rgb, w, h), Raw with { CropWidth = cw, CropHeight = ch });
        Assert.Equal(new TensorShape(1, 3, ch, cw), result.Shape);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < ch; y++)
                for (int x = 0; x < cw; x++)
                    Assert.Equal(At(rgb, w, x0 + x, y0 + y, c), result.Data[(c * ch + y) * cw + x]);
    }

    [Fact]
    public void Resize_then_crop_resamples_only_the_window_and_matches_the_full_resize()
    {
        const int w = 31, h = 19, shorter = 12, crop = 9;
        byte[] rgb = RandomRgb(w, h, 3);
        var (ow, oh) = ImagePreprocessor.ResizedSize(w, h, shorter);  // 19x12
        var (x0, y0) = ImagePreprocessor.CropOrigin(ow, oh, crop, crop);
        double[] full = ReferenceAntialiased(rgb, w, h, ow, oh);
        var expected = new float[3 * crop * crop];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < crop; y++)
                for (int x = 0; x < crop; x++)
                    expected[(c * crop + y) * crop + x] = (float)full[(c * oh + y0 + y) * ow + x0 + x];
        var result = ImagePreprocessor.Load(Png(rgb, w, h), Raw with { ResizeShorterSide = shorter, CropWidth = crop, CropHeight = crop });
        Tolerance.AssertClose(expected, result.Data, Tolerance.Op, "resize + crop");
    }

    [Theory]
    [InlineData(40, 20, 16, 16, 0, 4, 16, 8)]    // wider: bars top and bottom
    [InlineData(20, 40, 16, 16, 4, 0, 8, 16)]    // taller: bars left and right
    [InlineData(37, 23, 16, 16, 0, 3, 16, 10)]   // 9.95 rounds to 10
    [InlineData(30, 20, 15, 10, 0, 0, 15, 10)]   // exact fit
    [InlineData(9, 14, 20, 18, 4, 0, 12, 18)]    // enlarging: 11.57 rounds to 12
    [InlineData(8, 3, 4, 4, 0, 1, 4, 2)]         // 1.5 rounds half up
    [InlineData(10, 3, 4, 4, 0, 1, 4, 1)]        // odd bar pixel at the bottom
    [InlineData(1000, 1, 8, 8, 0, 3, 8, 1)]      // never thinner than one pixel
    public void Letterbox_placement_fits_the_whole_image_centred(int w, int h, int boxW, int boxH, int x, int y, int iw, int ih) =>
        Assert.Equal((x, y, iw, ih), ImagePreprocessor.LetterboxPlacement(w, h, boxW, boxH));

    [Theory]
    [InlineData(37, 23, 16, 16, 0, 3, 16, 10, ChannelOrder.Rgb)]
    [InlineData(9, 14, 20, 18, 4, 0, 12, 18, ChannelOrder.Bgr)]
    [InlineData(30, 20, 15, 10, 0, 0, 15, 10, ChannelOrder.Rgb)]
    [InlineData(6, 11, 13, 7, 4, 0, 4, 7, ChannelOrder.Grayscale)]
    public void Letterbox_resizes_the_whole_image_into_normalised_bars(int w, int h, int boxW, int boxH, int x0, int y0, int iw, int ih,
        ChannelOrder order)
    {
        byte[] rgb = RandomRgb(w, h, w * 7 + h);
        string path = Png(rgb, w, h);
        int channels = order == ChannelOrder.Grayscale ? 1 : 3;
        float[] mean = channels == 1 ? [0.5f] : [0.485f, 0.456f, 0.406f], std = channels == 1 ? [0.25f] : [0.229f, 0.224f, 0.225f];
        foreach (bool antialias in new[] { false, true })
        {
            // ResizeShorterSide is ignored by the letterbox.
            var options = new ImagePreprocessOptions
            {
                Fit = ImageFit.Letterbox,
                ResizeShorterSide = 3,
                CropWidth = boxW,
                CropHeight = boxH,
                PadValue = 114,
                Antialias = antialias,
                ChannelOrder = order,
                Mean = mean,
                Std = std,
            };
            double[] inner = antialias ? ReferenceAntialiased(rgb, w, h, iw, ih) : ReferenceBilinear(rgb, w, h, iw, ih);
            var expected = new float[channels * boxH * boxW];
            for (int c = 0; c < channels; c++)
                for (int y = 0; y < boxH; y++)
                    for (int x = 0; x < boxW; x++)
                    {
                        double v = 114;
                        if (x >= x0 && x < x0 + iw && y >= y0 && y < y0 + ih)
                        {
                            double Plane(int k) => inner[(k * ih + y - y0) * iw + x - x0];
                            v = order switch
                            {
                                ChannelOrder.Grayscale => 0.299 * Plane(0) + 0.587 * Plane(1) + 0.114 * Plane(2),
                                ChannelOrder.Bgr => Plane(2 - c),
                                _ => Plane(c),
                            };
                        }
                        expected[(c * boxH + y) * boxW + x] = (float)((v / 255 - mean[c]) / std[c]);
                    }
            var result = ImagePreprocessor.Load(path, options);
            Assert.Equal(new TensorShape(1, channels, boxH, boxW), result.Shape);
            Tolerance.AssertClose(expected, result.Data, Tolerance.Op, $"letterbox, antialias {antialias}");
        }
    }

    [Fact]
    public void Letterbox_options_are_validated()
    {
        string path = Png(RandomRgb(8, 6, 5), 8, 6);
        var letterbox = Raw with { Fit = ImageFit.Letterbox, CropWidth = 4, CropHeight = 4 };
        Assert.Contains("Letterbox needs the output size; CropWidth and CropHeight are 0x4", Assert.Throws<ArgumentException>(() =>
            ImagePreprocessor.Load(path, letterbox with { CropWidth = 0 })).Message);
        Assert.Contains("PadValue is -1",
            Assert.Throws<ArgumentException>(() => ImagePreprocessor.Load(path, letterbox with { PadValue = -1 })).Message);
        Assert.Contains("Fit 7",
            Assert.Throws<ArgumentException>(() => ImagePreprocessor.Load(path, letterbox with { Fit = (ImageFit)7 })).Message);
        Assert.Contains("10x10 output", Assert.Throws<ImageLoadException>(() =>
            ImagePreprocessor.Load(path, letterbox with { CropWidth = 10, CropHeight = 10, MaxPixels = 60 })).Message);
        // A letterbox larger than the image is fine (it enlarges), unlike a crop.
        Assert.Equal(new TensorShape(1, 3, 20, 30), ImagePreprocessor.Load(path, letterbox with { CropWidth = 30, CropHeight = 20 }).Shape);
    }

    [Fact]
    public void Scaling_mean_std_and_channel_order_follow_the_options()
    {
        const int w = 6, h = 4;
        byte[] rgb = RandomRgb(w, h, 11);
        string path = Png(rgb, w, h);
        float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
        var rgbNorm = ImagePreprocessor.Load(path, Raw with { Range = PixelRange.ZeroToOne, Mean = mean, Std = std });
        var bgr255 = ImagePreprocessor.Load(path, Raw with { ChannelOrder = ChannelOrder.Bgr, Mean = [10, 20, 30] });
        var gray = ImagePreprocessor.Load(path, Raw with { ChannelOrder = ChannelOrder.Grayscale, Range = PixelRange.ZeroToOne });
        Assert.Equal(new TensorShape(1, 1, h, w), gray.Shape);
        var expectRgb = new float[3 * h * w];
        var expectBgr = new float[3 * h * w];
        var expectGray = new float[h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    expectRgb[(c * h + y) * w + x] = (float)((At(rgb, w, x, y, c) / 255 - mean[c]) / std[c]);
                    // Output channel 0 of BGR is blue; Mean is given in output order.
                    expectBgr[(c * h + y) * w + x] = (float)(At(rgb, w, x, y, 2 - c) - (c + 1) * 10);
                }
                expectGray[y * w + x] = (float)((0.299 * At(rgb, w, x, y, 0) + 0.587 * At(rgb, w, x, y, 1) + 0.114 * At(rgb, w, x, y,
                    2)) / 255);
            }
        Tolerance.AssertClose(expectRgb, rgbNorm.Data, Tolerance.Op, "RGB mean/std");
        Tolerance.AssertClose(expectBgr, bgr255.Data, Tolerance.Op, "BGR 0..255");
        Tolerance.AssertClose(expectGray, gray.Data, Tolerance.Op, "grayscale");
    }

    [Fact]
    public void Photographs_load_with_the_ImageNet_preset_and_batch_in_order()
    {
        var paths = Photos.Select(Photo).ToArray();
        var batch = ImagePreprocessor.LoadBatch(paths, ImagePreprocessOptions.ImageNet);
        Assert.Equal(new TensorShape(4, 3, 224, 224), batch.Shape);
        for (int n = 0; n < paths.Length; n++)
        {
            float[] one = ImagePreprocessor.LoadNchw(paths[n], ImagePreprocessOptions.ImageNet);
            Assert.Equal(one, batch.Data.AsSpan(n * one.Length, one.Length).ToArray());
            // ImageNet-normalised photographs span roughly -2.1 .. 2.6 and are not flat.
            Assert.All(one, v => Assert.InRange(v, -2.2f, 2.7f));
            Assert.True(one.Max() - one.Min() > 2, $"{paths[n]} looks flat");
        }
        // The JPEG decodes to the size its header gives.
        Assert.Equal((640, 427), ImageDecoder.Identify(Photo("rocket.jpg")));
    }

    [Fact]
    public void A_batch_of_differently_sized_outputs_names_the_odd_image()
    {
        var noCrop = ImagePreprocessOptions.ImageNet with { CropWidth = 0, CropHeight = 0 };
        var e = Assert.Throws<ImageLoadException>(() =>
            ImagePreprocessor.LoadBatch([Photo("chelsea.png"), Photo("astronaut_256.png")], noCrop));
        Assert.Contains("astronaut_256.png", e.Message);
        Assert.Contains("[1, 3, 256, 384]", e.Message);
    }

    [Fact]
    public void A_stream_that_cannot_seek_loads_like_the_file()
    {
        string path = Photo("coffee_300x200.png");
        using var pipe = new NonSeekable(File.ReadAllBytes(path));
        var fromStream = ImagePreprocessor.Load(pipe, ImagePreprocessOptions.ImageNet, "coffee");
        Assert.Equal(ImagePreprocessor.LoadNchw(path, ImagePreprocessOptions.ImageNet), fromStream.Data);
    }

    [Fact]
    public void A_crop_larger_than_the_image_and_bad_options_are_refused()
    {
        string path = Png(RandomRgb(8, 6, 5), 8, 6);
        var e = Assert.Throws<ImageLoadException>(() => ImagePreprocessor.Load(path, Raw with { CropWidth = 9, CropHeight = 4 }));
        Assert.Contains("8x6", e.Message);
        Assert.Contains("9x4 crop", e.Message);
        Assert.Contains("Mean has 2",
            Assert.Throws<ArgumentException>(() => ImagePreprocessor.Load(path, Raw with { Mean = [1, 2] })).Message);
        Assert.Contains("Std", Assert.Throws<ArgumentException>(() => ImagePreprocessor.Load(path, Raw with { Std = [1, 0, 1] })).Message);
        Assert.Contains("Mean has 3", Assert.Throws<ArgumentException>(() =>
            ImagePreprocessor.Load(path, Raw with { ChannelOrder = ChannelOrder.Grayscale, Mean = [1, 2, 3] })).Message);
    }

    private sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => base.Position; set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin loc) => throw new NotSupportedException();
    }
}
