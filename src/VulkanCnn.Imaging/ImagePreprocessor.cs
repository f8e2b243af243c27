using System.Globalization;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace VulkanCnn.Imaging;

/// <summary>A preprocessed image or batch: NCHW float data and its shape.</summary>
public sealed record PreprocessedImage(float[] Data, TensorShape Shape);

/// <summary>
/// Images to NCHW float tensors: decode (with a pixel limit), bilinear resize of the shorter side,
/// center crop, scaling, mean/std normalisation and RGB/BGR/grayscale channel order. Only the
/// cropped window is resampled. Values are not rounded to 8 bits between steps.
/// </summary>
public static class ImagePreprocessor
{
    /// <summary>Loads one image as a [1, C, H, W] tensor.</summary>
    public static PreprocessedImage Load(string path, ImagePreprocessOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        using var image = ImageDecoder.DecodeRgb24(path, options.MaxPixels);
        return Preprocess(image, options, path);
    }

    /// <summary>Loads one image from a stream as a [1, C, H, W] tensor; <paramref name="name"/> names it in errors.</summary>
    public static PreprocessedImage Load(Stream stream, ImagePreprocessOptions options, string name = "stream")
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        using var image = ImageDecoder.DecodeRgb24(stream, name, options.MaxPixels);
        return Preprocess(image, options, name);
    }

    /// <summary>Loads one image; the data of a [1, C, H, W] tensor.</summary>
    public static float[] LoadNchw(string path, ImagePreprocessOptions options) => Load(path, options).Data;

    /// <summary>Loads images into one [N, C, H, W] batch. Every image must come out the same size, which a
    /// crop in both directions guarantees; otherwise the first one that differs is named.</summary>
    public static PreprocessedImage LoadBatch(IReadOnlyList<string> paths, ImagePreprocessOptions options)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Count == 0) throw new ArgumentException("The batch has no images.", nameof(paths));
        float[]? data = null;
        TensorShape? first = null;
        for (int n = 0; n < paths.Count; n++)
        {
            var one = Load(paths[n], options);
            if (first is null)
            {
                first = one.Shape;
                data = new float[checked(one.Data.Length * paths.Count)];
            }
            else if (one.Shape != first)
            {
                throw new ImageLoadException(paths[n], $"preprocessed to {one.Shape}, but {paths[0]} gave {first}; " +
                                                       "set CropWidth and CropHeight so every image has the same size");
            }
            one.Data.CopyTo(data!, n * one.Data.Length);
        }
        return new PreprocessedImage(data!, [paths.Count, first![1], first[2], first[3]]);
    }

    /// <summary>The data of a [N, C, H, W] batch; see <see cref="LoadBatch"/>.</summary>
    public static float[] LoadBatchNchw(IReadOnlyList<string> paths, ImagePreprocessOptions options) => LoadBatch(paths, options).Data;

    /// <summary>Preprocesses an already decoded image; <paramref name="name"/> names it in errors.</summary>
    public static PreprocessedImage Preprocess(Image<Rgb24> image, ImagePreprocessOptions options, string name = "image")
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var (rw, rh) = ResizedSize(image.Width, image.Height, options.ResizeShorterSide);
        int cw = options.CropWidth == 0 ? rw : options.CropWidth;
        int ch = options.CropHeight == 0 ? rh : options.CropHeight;
        if (cw > rw || ch > rh)
            throw new ImageLoadException(name, $"{image.Width}x{image.Height} image resized to {rw}x{rh} is smaller than the {cw}x{ch} crop");
        if ((long)cw * ch > options.MaxPixels)
            throw new ImageLoadException(name, string.Create(CultureInfo.InvariantCulture, $"the {cw}x{ch} output is larger than the {options.MaxPixels:N0}-pixel limit (MaxPixels)"));
        var (x0, y0) = CropOrigin(rw, rh, cw, ch);

        var columns = new BilinearTaps(image.Width, rw, x0, cw, options.Antialias);
        var rows = new BilinearTaps(image.Height, rh, y0, ch, options.Antialias);
        int channels = options.Channels;
        var (rowFirst, rowEnd) = rows.SourceRange();
        int rowCount = rowEnd - rowFirst;

        // Horizontal pass over only the source rows the crop needs: [channel, row, cw] in source RGB (or luma).
        var horizontal = new float[channels * rowCount * cw];
        bool gray = options.ChannelOrder == ChannelOrder.Grayscale;
        image.ProcessPixelRows(access =>
        {
            for (int r = 0; r < rowCount; r++)
            {
                Span<Rgb24> src = access.GetRowSpan(rowFirst + r);
                for (int x = 0; x < cw; x++)
                {
                    int start = columns.Start[x], count = columns.Count[x], w0 = x * columns.MaxCount;
                    float red = 0, green = 0, blue = 0;
                    for (int t = 0; t < count; t++)
                    {
                        float w = columns.Weights[w0 + t];
                        Rgb24 p = src[start + t];
                        red += w * p.R;
                        green += w * p.G;
                        blue += w * p.B;
                    }
                    if (gray)
                    {
                        horizontal[r * cw + x] = 0.299f * red + 0.587f * green + 0.114f * blue;
                    }
                    else
                    {
                        horizontal[(0 * rowCount + r) * cw + x] = red;
                        horizontal[(1 * rowCount + r) * cw + x] = green;
                        horizontal[(2 * rowCount + r) * cw + x] = blue;
                    }
                }
            }
        });

        // Vertical pass, then scale, channel order and normalisation.
        var output = new float[channels * ch * cw];
        float scale = options.Range == PixelRange.ZeroToOne ? 1f / 255f : 1f;
        for (int c = 0; c < channels; c++)
        {
            // Output channel c of BGR is source channel 2 - c.
            int source = options.ChannelOrder == ChannelOrder.Bgr ? 2 - c : c;
            float mean = options.Mean?[c] ?? 0f;
            float invStd = 1f / (options.Std?[c] ?? 1f);
            for (int y = 0; y < ch; y++)
            {
                int start = rows.Start[y] - rowFirst, count = rows.Count[y], w0 = y * rows.MaxCount;
                Span<float> dst = output.AsSpan((c * ch + y) * cw, cw);
                dst.Clear();
                for (int t = 0; t < count; t++)
                {
                    float w = rows.Weights[w0 + t];
                    ReadOnlySpan<float> src = horizontal.AsSpan((source * rowCount + start + t) * cw, cw);
                    for (int x = 0; x < cw; x++) dst[x] += w * src[x];
                }
                for (int x = 0; x < cw; x++) dst[x] = (dst[x] * scale - mean) * invStd;
            }
        }
        return new PreprocessedImage(output, [1, channels, ch, cw]);
    }

    /// <summary>Size after resizing the shorter side to <paramref name="shorterSide"/> (0: unchanged); the
    /// longer side is truncated as torchvision's <c>Resize(int)</c> does.</summary>
    public static (int Width, int Height) ResizedSize(int width, int height, int shorterSide)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"Image size {width}x{height} must be positive.");
        if (shorterSide == 0) return (width, height);
        long longer = width <= height ? (long)shorterSide * height / width : (long)shorterSide * width / height;
        if (longer > int.MaxValue)
            throw new ArgumentException($"Resizing {width}x{height} to a shorter side of {shorterSide} gives a longer side of {longer}.");
        return width <= height ? (shorterSide, (int)longer) : ((int)longer, shorterSide);
    }

    /// <summary>Top-left corner of a center crop: <c>round((size - crop) / 2)</c> with ties to even, the same
    /// offsets as torchvision's <c>CenterCrop</c>.</summary>
    public static (int X, int Y) CropOrigin(int width, int height, int cropWidth, int cropHeight) =>
        ((int)Math.Round((width - cropWidth) / 2.0, MidpointRounding.ToEven),
         (int)Math.Round((height - cropHeight) / 2.0, MidpointRounding.ToEven));
}
