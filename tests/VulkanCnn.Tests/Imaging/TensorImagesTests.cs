using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using VulkanCnn.Imaging;

namespace VulkanCnn.Tests.Imaging;

/// <summary>Tensors to pictures on tiny inputs with hand-computed pixels: the inverse of preprocessing, feature-map
/// grids, segmentation masks and blending, and their argument errors.</summary>
public sealed class TensorImagesTests
{
    private static Rgb24 Grey(byte v) => new(v, v, v);

    private static Rgb24[,] Pixels(Image<Rgb24> image)
    {
        var p = new Rgb24[image.Height, image.Width];
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++) p[y, x] = image[x, y];
        return p;
    }

    private static void AssertPixels(Rgb24[,] expected, Image<Rgb24> actual)
    {
        Assert.Equal((expected.GetLength(1), expected.GetLength(0)), (actual.Width, actual.Height));
        for (int y = 0; y < actual.Height; y++)
            for (int x = 0; x < actual.Width; x++)
                Assert.True(expected[y, x] == actual[x, y], $"pixel ({x}, {y}): expected {expected[y, x]}, got {actual[x, y]}");
    }

    [Fact]
    public void FromNchw_undoes_normalisation_rounds_and_clamps()
    {
        // R: v*0.5+0.5 -> 0.5, 1 -> 127.5 rounds up to 128, 255. G: -0.25 and 1.5 clamp to 0 and 255. B: 0.2, 0.4 -> 51, 102.
        float[] data = [0, 1, -2, 5, 0.1f, 0.2f];
        using var rgb = TensorImages.FromNchw(data, 3, 1, 2, [0.5f, 0.25f, 0], [0.5f, 0.25f, 2], PixelRange.ZeroToOne, ChannelOrder.Rgb);
        AssertPixels(new[,] { { new Rgb24(128, 0, 51), new Rgb24(255, 255, 102) } }, rgb);

        // BGR planes come back as R, G, B; 0..255 values are not scaled.
        using var bgr = TensorImages.FromNchw([10.4f, 20.5f, 30.6f], 3, 1, 1, null, null, PixelRange.ZeroTo255, ChannelOrder.Bgr);
        AssertPixels(new[,] { { new Rgb24(31, 21, 10) } }, bgr);

        using var gray = TensorImages.FromNchw([0, -60], 1, 2, 1, [100], [2], PixelRange.ZeroTo255, ChannelOrder.Grayscale);
        AssertPixels(new[,] { { Grey(100) }, { Grey(0) } }, gray);
    }

    public static TheoryData<string> Presets => ["ImageNet", "Caffe"];

    [Theory]
    [MemberData(nameof(Presets))]
    public void Preprocessing_then_FromNchw_gives_the_image_back_within_one_level(string preset)
    {
        var options = (preset == "Caffe" ? ImagePreprocessOptions.Caffe : ImagePreprocessOptions.ImageNet)
            with
        { ResizeShorterSide = 0, CropWidth = 0, CropHeight = 0 };
        const int w = 13, h = 9;
        var bytes = new byte[w * h * 3];
        new Random(5).NextBytes(bytes);
        using var random = Image.LoadPixelData<Rgb24>(bytes, w, h);
        using var photo = Image.Load<Rgb24>(ImagePreprocessorTests.Photo("coffee_300x200.png"));
        foreach (var original in new[] { random, photo })
        {
            var tensor = ImagePreprocessor.Preprocess(original, options);
            using var back = TensorImages.FromNchw(tensor.Data, original.Height, original.Width, options);
            int worst = 0;
            for (int y = 0; y < original.Height; y++)
                for (int x = 0; x < original.Width; x++)
                {
                    Rgb24 a = original[x, y], b = back[x, y];
                    worst = Math.Max(worst, Math.Max(Math.Abs(a.R - b.R), Math.Max(Math.Abs(a.G - b.G), Math.Abs(a.B - b.B))));
                }
            Assert.True(worst <= 1, $"{preset}: a pixel came back {worst} levels off");
        }
    }

    [Fact]
    public void A_letterboxed_input_shows_its_bars_in_the_pad_grey()
    {
        var options = ImagePreprocessOptions.ImageNet with { Fit = ImageFit.Letterbox, CropWidth = 8, CropHeight = 8, PadValue = 114 };
        using var wide = new Image<Rgb24>(16, 4, new Rgb24(200, 10, 50));
        using var back = TensorImages.FromNchw(ImagePreprocessor.Preprocess(wide, options).Data, 8, 8, options);
        // 16x4 fits as 8x2 at rows 3..4.
        Assert.Equal(Grey(114), back[0, 0]);
        Assert.Equal(Grey(114), back[7, 7]);
        Assert.Equal(new Rgb24(200, 10, 50), back[4, 3]);
    }

    [Fact]
    public void A_two_channel_2x2_feature_map_becomes_two_grey_tiles()
    {
        // Channel 0: 0, 1, 2, 4 -> 0, 63.75, 127.5, 255 -> 0, 64, 128, 255. Channel 1 is constant: mid-grey.
        float[] maps = [0, 1, 2, 4, 3, 3, 3, 3];
        Rgb24 s = TensorImages.SeparatorColor, m = Grey(128);
        using var grid = TensorImages.FeatureMapGrid(maps, 2, 2, 2);  // ceil(sqrt(2)) = 2 columns
        AssertPixels(new[,]
        {
            { Grey(0), Grey(64), s, m, m },
            { Grey(128), Grey(255), s, m, m },
        }, grid);

        // One column, upscaled twice: 4x4 tiles above each other with a separator row.
        using var tall = TensorImages.FeatureMapGrid(maps, 2, 2, 2, columns: 1, scale: 2);
        Assert.Equal((4, 9), (tall.Width, tall.Height));
        Assert.Equal(Grey(0), tall[1, 1]);
        Assert.Equal(Grey(64), tall[2, 1]);
        Assert.Equal(Grey(128), tall[0, 3]);
        Assert.Equal(Grey(255), tall[3, 3]);
        for (int x = 0; x < 4; x++) Assert.Equal(s, tall[x, 4]);
        Assert.Equal(m, tall[3, 8]);

        // More columns than channels shrink to the channel count.
        using var wide = TensorImages.FeatureMapGrid(maps, 2, 2, 2, columns: 5);
        Assert.Equal((5, 2), (wide.Width, wide.Height));
    }

    [Fact]
    public void Empty_grid_cells_are_separator_colour_and_non_finite_values_go_to_the_ends()
    {
        Rgb24 s = TensorImages.SeparatorColor, m = Grey(128);
        using var three = TensorImages.FeatureMapGrid([5, -1, 7], 3, 1, 1);  // 2 columns, 2 rows, one cell empty
        AssertPixels(new[,] { { m, s, m }, { s, s, s }, { m, s, s } }, three);

        using var odd = TensorImages.FeatureMapGrid([float.NaN, 0, 2, float.PositiveInfinity], 1, 2, 2);
        AssertPixels(new[,] { { Grey(0), Grey(0) }, { Grey(255), Grey(255) } }, odd);
    }

    [Fact]
    public void A_three_class_mask_takes_the_arg_max_with_ties_to_the_lowest_class()
    {
        // Per pixel (class 0, 1, 2): (1,1,0)->0 tie, (0,2,2)->1 tie, (0,0,3)->2 / (5,5,5)->0, (-1,-3,-2)->0, (.5,.7,.6)->1.
        float[] scores =
        [
            1, 0, 0, 5, -1, 0.5f,
            1, 2, 0, 5, -3, 0.7f,
            0, 2, 3, 5, -2, 0.6f,
        ];
        Rgb24 black = new(0, 0, 0), red = new(230, 25, 75), green = new(60, 180, 75);
        using var mask = TensorImages.SegmentationMask(scores, 3, 2, 3);
        AssertPixels(new[,] { { black, red, green }, { black, black, red } }, mask);
    }

    [Fact]
    public void The_palette_is_distinct_and_cycles_past_its_end_without_black()
    {
        Assert.Equal(new Rgb24(0, 0, 0), TensorImages.ClassColor(0));
        Assert.Equal(21, TensorImages.Palette.Count);
        Assert.Equal(TensorImages.Palette.Count, TensorImages.Palette.Distinct().Count());
        Assert.Equal(TensorImages.ClassColor(1), TensorImages.ClassColor(21));
        Assert.Equal(TensorImages.Palette[2], TensorImages.ClassColor(22));
        Assert.Equal(TensorImages.Palette[20], TensorImages.ClassColor(40));
        // 23 classes on one pixel, class 22 highest.
        var scores = new float[23];
        scores[22] = 1;
        using var mask = TensorImages.SegmentationMask(scores, 23, 1, 1);
        Assert.Equal(TensorImages.Palette[2], mask[0, 0]);
    }

    [Fact]
    public void Blend_mixes_by_alpha_and_resizes_the_mask_by_nearest_neighbour()
    {
        using var image = new Image<Rgb24>(2, 2);
        image[0, 0] = new Rgb24(100, 0, 200);
        image[1, 0] = new Rgb24(10, 20, 30);
        image[0, 1] = new Rgb24(0, 0, 0);
        image[1, 1] = new Rgb24(255, 255, 255);
        using var one = new Image<Rgb24>(1, 1, new Rgb24(200, 100, 0));
        // 0.75 * image + 0.25 * (200, 100, 0); 57.5 and 22.5 round up.
        using var quarter = TensorImages.Blend(image, one, 0.25f);
        AssertPixels(new[,]
        {
            { new Rgb24(125, 25, 150), new Rgb24(58, 40, 23) },
            { new Rgb24(50, 25, 0), new Rgb24(241, 216, 191) },
        }, quarter);
        using var none = TensorImages.Blend(image, one, 0);
        AssertPixels(Pixels(image), none);

        // A 2x1 mask on a 4x2 image: columns 0-1 take the left mask pixel, 2-3 the right.
        Rgb24 a = new(1, 2, 3), b = new(4, 5, 6);
        using var halves = new Image<Rgb24>(2, 1);
        halves[0, 0] = a;
        halves[1, 0] = b;
        using var target = new Image<Rgb24>(4, 2);
        using var up = TensorImages.Blend(target, halves, 1);
        AssertPixels(new[,] { { a, a, b, b }, { a, a, b, b } }, up);

        // A 3x3 mask on a 2x2 image samples the mask at the image's pixel centres: its corners.
        using var nine = new Image<Rgb24>(3, 3);
        for (int i = 0; i < 9; i++) nine[i % 3, i / 3] = Grey((byte)(i * 10));
        using var down = TensorImages.Blend(image, nine, 1);
        AssertPixels(new[,] { { Grey(0), Grey(20) }, { Grey(60), Grey(80) } }, down);
    }

    [Fact]
    public void Wrong_lengths_shapes_and_alpha_name_the_argument()
    {
        void Expect<T>(string param, string text, Action action) where T : ArgumentException
        {
            var e = Assert.Throws<T>(action);
            Assert.Equal(param, e.ParamName);
            Assert.Contains(text, e.Message);
        }
        Expect<ArgumentException>("data", "[3, 2, 2] tensor has 12", () =>
            TensorImages.FromNchw(new float[11], 3, 2, 2, null, null, PixelRange.ZeroToOne, ChannelOrder.Rgb));
        Expect<ArgumentException>("channels", "Grayscale images have 1", () =>
            TensorImages.FromNchw(new float[12], 3, 2, 2, null, null, PixelRange.ZeroToOne, ChannelOrder.Grayscale));
        Expect<ArgumentException>("mean", "mean has 2", () =>
            TensorImages.FromNchw(new float[12], 3, 2, 2, [1, 2], null, PixelRange.ZeroToOne, ChannelOrder.Rgb));
        Expect<ArgumentException>("std", "std has 1", () =>
            TensorImages.FromNchw(new float[12], 3, 2, 2, null, [1], PixelRange.ZeroToOne, ChannelOrder.Rgb));
        Expect<ArgumentOutOfRangeException>("height", "positive", () =>
            TensorImages.FromNchw([], 3, 0, 2, null, null, PixelRange.ZeroToOne, ChannelOrder.Rgb));

        Expect<ArgumentException>("chw", "[2, 2, 2] tensor has 8", () => TensorImages.FeatureMapGrid(new float[7], 2, 2, 2));
        Expect<ArgumentOutOfRangeException>("channels", "channel", () => TensorImages.FeatureMapGrid([], 0, 2, 2));
        Expect<ArgumentOutOfRangeException>("columns", "column", () => TensorImages.FeatureMapGrid(new float[8], 2, 2, 2, columns: -1));
        Expect<ArgumentOutOfRangeException>("scale", "at least 1", () => TensorImages.FeatureMapGrid(new float[8], 2, 2, 2, scale: 0));
        Expect<ArgumentException>("scale", "pixel limit", () => TensorImages.FeatureMapGrid(new float[8], 2, 2, 2, scale: 5000));

        Expect<ArgumentException>("scores", "[3, 2, 3] scores have 18", () => TensorImages.SegmentationMask(new float[17], 3, 2, 3));
        Expect<ArgumentOutOfRangeException>("classes", "class", () => TensorImages.SegmentationMask([], 0, 2, 3));
        Expect<ArgumentOutOfRangeException>("width", "positive", () => TensorImages.SegmentationMask([], 3, 2, -1));

        using var image = new Image<Rgb24>(2, 2);
        foreach (float alpha in new[] { -0.1f, 1.5f, float.NaN })
            Expect<ArgumentOutOfRangeException>("alpha", "0..1", () => TensorImages.Blend(image, image, alpha).Dispose());
        Assert.Equal("mask", Assert.Throws<ArgumentNullException>(() => TensorImages.Blend(image, null!, 0.5f)).ParamName);
    }
}
