using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace VulkanCnn.Imaging;

/// <summary>
/// Tensors back to pictures for looking at: the network input (undoing <see cref="ImagePreprocessor"/>),
/// feature maps as a grid of grey tiles, and segmentation scores as a coloured class mask. CPU only; every
/// result is a new image the caller disposes.
/// </summary>
public static class TensorImages
{
    /// <summary>Colour of the grid lines and empty cells of <see cref="FeatureMapGrid"/>: dark slate, off the
    /// grey axis so it never reads as a value.</summary>
    public static readonly Rgb24 SeparatorColor = new(24, 24, 72);

    /// <summary>Class colours of <see cref="SegmentationMask"/>: class 0 (background) black, then 20 colours
    /// far apart (red, green, yellow, blue, orange, purple, cyan, magenta, lime, pink, teal, lavender, brown,
    /// beige, maroon, mint, olive, apricot, navy, grey). Class k &gt; 20 reuses colour 1 + (k - 1) mod 20, so
    /// only the background is black.</summary>
    public static IReadOnlyList<Rgb24> Palette { get; } =
    [
        new(0, 0, 0), new(230, 25, 75), new(60, 180, 75), new(255, 225, 25), new(0, 130, 200),
        new(245, 130, 48), new(145, 30, 180), new(70, 240, 240), new(240, 50, 230), new(210, 245, 60),
        new(250, 190, 212), new(0, 128, 128), new(220, 190, 255), new(170, 110, 40), new(255, 250, 200),
        new(128, 0, 0), new(170, 255, 195), new(128, 128, 0), new(255, 215, 180), new(0, 0, 128),
        new(128, 128, 128),
    ];

    /// <summary>The colour <see cref="SegmentationMask"/> gives class <paramref name="classIndex"/>.</summary>
    public static Rgb24 ClassColor(int classIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(classIndex);
        return classIndex == 0 ? Palette[0] : Palette[1 + (classIndex - 1) % (Palette.Count - 1)];
    }

    /// <summary>
    /// A [C, H, W] (or [1, C, H, W]) network input back to 8-bit RGB: <c>value * std + mean</c>, times 255 for
    /// <see cref="PixelRange.ZeroToOne"/>, rounded and clamped to 0..255. BGR planes are swapped back; one
    /// grayscale plane becomes grey. <paramref name="mean"/>/<paramref name="std"/> are per tensor channel,
    /// as in <see cref="ImagePreprocessOptions"/>; null means 0 / 1.
    /// </summary>
    public static Image<Rgb24> FromNchw(float[] data, int channels, int height, int width, float[]? mean, float[]? std,
        PixelRange range, ChannelOrder order)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!Enum.IsDefined(order)) throw new ArgumentException($"ChannelOrder {order} is not defined.", nameof(order));
        if (!Enum.IsDefined(range)) throw new ArgumentException($"PixelRange {range} is not defined.", nameof(range));
        int expectedChannels = order == ChannelOrder.Grayscale ? 1 : 3;
        if (channels != expectedChannels)
            throw new ArgumentException($"{order} images have {expectedChannels} channel(s); got {channels}.", nameof(channels));
        long plane = CheckSize(height, width, nameof(height), nameof(width));
        if (data.LongLength != channels * plane)
            throw new ArgumentException($"data has {data.Length} values; a [{channels}, {height}, {width}] tensor has {channels * plane}.",
                nameof(data));
        if (mean is not null && mean.Length != channels)
            throw new ArgumentException($"mean has {mean.Length} values; the tensor has {channels} channel(s).", nameof(mean));
        if (std is not null && std.Length != channels)
            throw new ArgumentException($"std has {std.Length} values; the tensor has {channels} channel(s).", nameof(std));
        float unit = range == PixelRange.ZeroToOne ? 255f : 1f;
        var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(access =>
        {
            for (int y = 0; y < height; y++)
            {
                Span<Rgb24> row = access.GetRowSpan(y);
                for (int x = 0; x < width; x++)
                {
                    byte Level(int c) => ToByte((data[(c * height + y) * width + x] * (std?[c] ?? 1f) + (mean?[c] ?? 0f)) * unit);
                    row[x] = order switch
                    {
                        ChannelOrder.Grayscale => Grey(Level(0)),
                        ChannelOrder.Bgr => new Rgb24(Level(2), Level(1), Level(0)),
                        _ => new Rgb24(Level(0), Level(1), Level(2)),
                    };
                }
            }
        });
        return image;
    }

    /// <summary><see cref="FromNchw(float[], int, int, int, float[], float[], PixelRange, ChannelOrder)"/> with
    /// the mean, std, range and channel order of <paramref name="options"/>.</summary>
    public static Image<Rgb24> FromNchw(float[] data, int height, int width, ImagePreprocessOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return FromNchw(data, options.Channels, height, width, options.Mean, options.Std, options.Range, options.ChannelOrder);
    }

    /// <summary>
    /// Feature maps [C, H, W] as grey tiles in a grid, channel 0 top-left, row by row: each channel stretched
    /// from its own minimum (0) to maximum (255), a constant channel mid-grey 128 (NaN black, infinities
    /// at the ends). Tiles are
    /// <paramref name="scale"/> times larger (nearest neighbour) and 1 pixel of <see cref="SeparatorColor"/>
    /// apart; empty cells are that colour too. <paramref name="columns"/> 0 picks ceil(sqrt(C)).
    /// </summary>
    public static Image<Rgb24> FeatureMapGrid(ReadOnlySpan<float> chw, int channels, int height, int width, int columns = 0, int scale = 1)
    {
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, "At least one channel is needed.");
        long plane = CheckSize(height, width, nameof(height), nameof(width));
        if (chw.Length != channels * plane)
            throw new ArgumentException($"chw has {chw.Length} values; a [{channels}, {height}, {width}] tensor has {channels * plane}.",
                nameof(chw));
        if (columns < 0) throw new ArgumentOutOfRangeException(nameof(columns), columns, "Use 0 (automatic) or a positive column count.");
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale), scale, "The upscale factor must be at least 1.");
        if (columns == 0) columns = (int)Math.Ceiling(Math.Sqrt(channels));
        columns = Math.Min(columns, channels);
        int rows = (channels + columns - 1) / columns;
        long tileW = (long)width * scale, tileH = (long)height * scale;
        long gridW = columns * tileW + columns - 1, gridH = rows * tileH + rows - 1;
        if (gridW * gridH > ImagePreprocessOptions.DefaultMaxPixels)
            throw new ArgumentException($"A {columns}x{rows} grid of {tileW}x{tileH} tiles is {gridW}x{gridH} pixels, over the " +
                $"{ImagePreprocessOptions.DefaultMaxPixels}-pixel limit; lower scale.", nameof(scale));

        var image = new Image<Rgb24>((int)gridW, (int)gridH, SeparatorColor);
        var levels = new byte[plane];
        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<float> map = chw.Slice((int)(c * plane), (int)plane);
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            foreach (float v in map)
                if (float.IsFinite(v)) { min = Math.Min(min, v); max = Math.Max(max, v); }
            double span = (double)max - min;
            for (int i = 0; i < levels.Length; i++)
                levels[i] = float.IsNaN(map[i]) ? (byte)0
                    : !(span > 0) ? (byte)128 : ToByte((float)(((double)map[i] - min) / span * 255));
            int left = (int)((c % columns) * (tileW + 1)), top = (int)((c / columns) * (tileH + 1));
            image.ProcessPixelRows(access =>
            {
                for (int y = 0; y < tileH; y++)
                {
                    Span<Rgb24> row = access.GetRowSpan(top + y).Slice(left, (int)tileW);
                    int source = y / scale * width;
                    for (int x = 0; x < row.Length; x++) row[x] = Grey(levels[source + x / scale]);
                }
            });
        }
        return image;
    }

    /// <summary>
    /// Per-pixel class scores [classes, H, W] (logits or probabilities; a leading batch of 1 is the same data)
    /// to a mask coloured by <see cref="ClassColor"/> of the arg-max class; ties go to the lowest class index
    /// and NaN scores never win.
    /// </summary>
    public static Image<Rgb24> SegmentationMask(ReadOnlySpan<float> scores, int classes, int height, int width)
    {
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "At least one class is needed.");
        long plane = CheckSize(height, width, nameof(height), nameof(width));
        if (scores.Length != classes * plane)
            throw new ArgumentException($"scores has {scores.Length} values; [{classes}, {height}, {width}] scores have {classes * plane}.",
                nameof(scores));
        var labels = new int[plane];  // the span cannot enter the row-access callback
        for (int i = 0; i < labels.Length; i++)
        {
            float top = scores[i];
            for (int k = 1; k < classes; k++)
            {
                float v = scores[(int)(k * plane) + i];
                if (v > top || (float.IsNaN(top) && !float.IsNaN(v))) { top = v; labels[i] = k; }
            }
        }
        var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(access =>
        {
            for (int y = 0; y < height; y++)
            {
                Span<Rgb24> row = access.GetRowSpan(y);
                for (int x = 0; x < width; x++) row[x] = ClassColor(labels[y * width + x]);
            }
        });
        return image;
    }

    /// <summary>
    /// <c>(1 - alpha) * image + alpha * mask</c> per channel, rounded, as a new image of <paramref name="image"/>'s
    /// size; a mask of another size is first resized to it by nearest neighbour (pixel centres).
    /// </summary>
    public static Image<Rgb24> Blend(Image<Rgb24> image, Image<Rgb24> mask, float alpha)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(mask);
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha is the mask's weight, 0..1.");
        int w = image.Width, h = image.Height, mw = mask.Width, mh = mask.Height;
        var result = new Image<Rgb24>(w, h);
        var maskRow = new Rgb24[mw];
        var imageRow = new Rgb24[w];
        for (int y = 0; y < h; y++)
        {
            int my = (int)(((long)y * 2 + 1) * mh / (2L * h));
            mask.ProcessPixelRows(a => a.GetRowSpan(my).CopyTo(maskRow));
            image.ProcessPixelRows(a => a.GetRowSpan(y).CopyTo(imageRow));
            int row = y;
            result.ProcessPixelRows(a =>
            {
                Span<Rgb24> dst = a.GetRowSpan(row);
                for (int x = 0; x < w; x++)
                {
                    Rgb24 p = imageRow[x], m = maskRow[(int)(((long)x * 2 + 1) * mw / (2L * w))];
                    dst[x] = new Rgb24(Mix(p.R, m.R, alpha), Mix(p.G, m.G, alpha), Mix(p.B, m.B, alpha));
                }
            });
        }
        return result;
    }

    private static byte Mix(byte a, byte b, float alpha) => ToByte((1 - alpha) * a + alpha * b);

    private static Rgb24 Grey(byte level) => new(level, level, level);

    /// <summary>Rounded to nearest (halves up) and clamped to 0..255; NaN is 0.</summary>
    private static byte ToByte(float v) => float.IsNaN(v) ? (byte)0 : (byte)Math.Clamp(MathF.Floor(v + 0.5f), 0f, 255f);

    private static long CheckSize(int height, int width, string heightName, string widthName)
    {
        if (height < 1) throw new ArgumentOutOfRangeException(heightName, height, "The height must be positive.");
        if (width < 1) throw new ArgumentOutOfRangeException(widthName, width, "The width must be positive.");
        long plane = (long)height * width;
        if (plane > ImagePreprocessOptions.DefaultMaxPixels)
            throw new ArgumentException($"A {width}x{height} image is over the {ImagePreprocessOptions.DefaultMaxPixels}-pixel limit.",
                widthName);
        return plane;
    }
}
