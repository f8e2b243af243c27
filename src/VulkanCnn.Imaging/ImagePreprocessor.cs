using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using System.Globalization;

namespace VulkanCnn.Imaging;

/// <summary>A preprocessed image or batch: NCHW float data and its shape.</summary>
public sealed record PreprocessedImage(float[] Data, TensorShape Shape);

/// <summary>
/// Images to NCHW float tensors: decode (with a pixel limit), bilinear resize of the shorter side and
/// center crop (or a letterbox fit), scaling, mean/std normalisation and RGB/BGR/grayscale channel order. Only the
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
        // The resampled block is iw x ih, written at (ox, oy) of the cw x ch output; letterbox bars around it.
        int cw, ch, iw, ih, ox = 0, oy = 0;
        BilinearTaps columns, rows;
        if (options.Fit == ImageFit.Letterbox)
        {
            (cw, ch) = (options.CropWidth, options.CropHeight);
            if ((long)cw * ch > options.MaxPixels)
                throw new ImageLoadException(name,
                    string.Create(CultureInfo.InvariantCulture,
                        $"the {cw}x{ch} output is larger than the {options.MaxPixels:N0}-pixel limit (MaxPixels)"));
            (ox, oy, iw, ih) = LetterboxPlacement(image.Width, image.Height, cw, ch);
            columns = new BilinearTaps(image.Width, iw, 0, iw, options.Antialias);
            rows = new BilinearTaps(image.Height, ih, 0, ih, options.Antialias);
        }
        else
        {
            var (rw, rh) = ResizedSize(image.Width, image.Height, options.ResizeShorterSide);
            cw = options.CropWidth == 0 ? rw : options.CropWidth;
            ch = options.CropHeight == 0 ? rh : options.CropHeight;
            if (cw > rw || ch > rh)
                throw new ImageLoadException(name,
                    $"{image.Width}x{image.Height} image resized to {rw}x{rh} is smaller than the {cw}x{ch} crop");
            if ((long)cw * ch > options.MaxPixels)
                throw new ImageLoadException(name,
                    string.Create(CultureInfo.InvariantCulture,
                        $"the {cw}x{ch} output is larger than the {options.MaxPixels:N0}-pixel limit (MaxPixels)"));
            var (x0, y0) = CropOrigin(rw, rh, cw, ch);
            (iw, ih) = (cw, ch);
            columns = new BilinearTaps(image.Width, rw, x0, cw, options.Antialias);
            rows = new BilinearTaps(image.Height, rh, y0, ch, options.Antialias);
        }
        int channels = options.Channels;
        var (rowFirst, rowEnd) = rows.SourceRange();
        int rowCount = rowEnd - rowFirst;

        // Horizontal pass over only the source rows the crop needs: [channel, row, iw] in source RGB (or luma).
        var horizontal = new float[channels * rowCount * iw];
        bool gray = options.ChannelOrder == ChannelOrder.Grayscale;
        image.ProcessPixelRows(access =>
        {
            for (int r = 0; r < rowCount; r++)
            {
                Span<Rgb24> src = access.GetRowSpan(rowFirst + r);
                for (int x = 0; x < iw; x++)
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
                        horizontal[r * iw + x] = 0.299f * red + 0.587f * green + 0.114f * blue;
                    }
                    else
                    {
                        horizontal[(0 * rowCount + r) * iw + x] = red;
                        horizontal[(1 * rowCount + r) * iw + x] = green;
                        horizontal[(2 * rowCount + r) * iw + x] = blue;
                    }
                }
            }
        });

        // Vertical pass, then scale, channel order and normalisation.
        var output = new float[channels * ch * cw];
        bool bars = iw != cw || ih != ch;
        float scale = options.Range == PixelRange.ZeroToOne ? 1f / 255f : 1f;
        for (int c = 0; c < channels; c++)
        {
            // Output channel c of BGR is source channel 2 - c.
            int source = options.ChannelOrder == ChannelOrder.Bgr ? 2 - c : c;
            float mean = options.Mean?[c] ?? 0f;
            float invStd = 1f / (options.Std?[c] ?? 1f);
            if (bars) output.AsSpan(c * ch * cw, ch * cw).Fill((options.PadValue * scale - mean) * invStd);
            for (int y = 0; y < ih; y++)
            {
                int start = rows.Start[y] - rowFirst, count = rows.Count[y], w0 = y * rows.MaxCount;
                Span<float> dst = output.AsSpan((c * ch + oy + y) * cw + ox, iw);
                dst.Clear();
                for (int t = 0; t < count; t++)
                {
                    float w = rows.Weights[w0 + t];
                    ReadOnlySpan<float> src = horizontal.AsSpan((source * rowCount + start + t) * iw, iw);
                    for (int x = 0; x < iw; x++) dst[x] += w * src[x];
                }
                for (int x = 0; x < iw; x++) dst[x] = (dst[x] * scale - mean) * invStd;
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

    /// <summary>Where a letterboxed image lands in a <paramref name="boxWidth"/> x <paramref name="boxHeight"/>
    /// output: scaled by <c>min(boxW / width, boxH / height)</c>, the fitted side exact and the other rounded
    /// (half up, at least 1), centred with the odd pixel of the bars at the right/bottom.</summary>
    public static (int X, int Y, int Width, int Height) LetterboxPlacement(int width, int height, int boxWidth, int boxHeight)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"Image size {width}x{height} must be positive.");
        if (boxWidth <= 0 || boxHeight <= 0) throw new ArgumentException($"Letterbox size {boxWidth}x{boxHeight} must be positive.");
        int w, h;
        if ((long)boxWidth * height <= (long)boxHeight * width)
            (w, h) = (boxWidth, (int)Math.Clamp((2L * height * boxWidth + width) / (2L * width), 1, boxHeight));
        else
            (w, h) = ((int)Math.Clamp((2L * width * boxHeight + height) / (2L * height), 1, boxWidth), boxHeight);
        return ((boxWidth - w) / 2, (boxHeight - h) / 2, w, h);
    }

    /// <summary>Top-left corner of a center crop: <c>round((size - crop) / 2)</c> with ties to even, the same
    /// offsets as torchvision's <c>CenterCrop</c>.</summary>
    public static (int X, int Y) CropOrigin(int width, int height, int cropWidth, int cropHeight) =>
        ((int)Math.Round((width - cropWidth) / 2.0, MidpointRounding.ToEven),
         (int)Math.Round((height - cropHeight) / 2.0, MidpointRounding.ToEven));
}
