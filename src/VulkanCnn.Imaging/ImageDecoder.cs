using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.PixelFormats;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;

namespace VulkanCnn.Imaging;

/// <summary>
/// Decodes images to 8-bit RGB with a pixel budget: the header is read first and an image that
/// declares more than <c>maxPixels</c> is refused before any pixel buffer exists. Multi-frame formats
/// decode their first frame only, and the allocator refuses single buffers beyond the budget as a second
/// line of defence. Any decoder failure becomes <see cref="ImageDecodeException"/>.
/// </summary>
public static class ImageDecoder
{
    private static readonly ConcurrentDictionary<long, Configuration> Configurations = new();

    /// <summary>Width and height from the header alone, after the same checks as <see cref="DecodeRgb24(string, long)"/>.</summary>
    public static (int Width, int Height) Identify(string path, long maxPixels = ImagePreprocessOptions.DefaultMaxPixels)
    {
        using var stream = File.OpenRead(path);
        return Identify(stream, path, maxPixels);
    }

    /// <summary>Decodes the file (first frame) as 8-bit RGB; alpha is dropped.</summary>
    public static Image<Rgb24> DecodeRgb24(string path, long maxPixels = ImagePreprocessOptions.DefaultMaxPixels)
    {
        using var stream = File.OpenRead(path);
        return DecodeRgb24(stream, path, maxPixels);
    }

    /// <summary>Decodes a stream (first frame) as 8-bit RGB. <paramref name="name"/> names it in errors.</summary>
    public static Image<Rgb24> DecodeRgb24(Stream stream, string name, long maxPixels = ImagePreprocessOptions.DefaultMaxPixels)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
        {
            // Identify and decode both read the header; buffer what the caller hands over.
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }
        long start = stream.Position;
        Identify(stream, name, maxPixels);
        stream.Position = start;
        return Guard(name, maxPixels, () => Image.Load<Rgb24>(ConfigurationFor(maxPixels), stream));
    }

    private static (int Width, int Height) Identify(Stream stream, string name, long maxPixels)
    {
        if (maxPixels <= 0) throw new ArgumentOutOfRangeException(nameof(maxPixels), maxPixels, "The pixel limit must be positive.");
        long start = stream.Position;
        IImageFormat? format = null;
        var info = Guard(name, maxPixels, () => Image.Identify(ConfigurationFor(maxPixels), stream, out format));
        if (info is null || format is null)
            throw new ImageDecodeException(name,
                "not a supported image (PNG, JPEG, BMP, GIF, TIFF, WebP, TGA, PBM) or its header is corrupt");
        if (info.Width <= 0 || info.Height <= 0)
            throw new ImageDecodeException(name, $"the header declares an empty {info.Width}x{info.Height} image");
        if ((long)info.Width * info.Height > maxPixels)
            throw new ImageTooLargeException(name, info.Width, info.Height, maxPixels);
        if (format is WebpFormat && IsAnimatedWebp(stream, start))
            throw new ImageDecodeException(name, "animated WebP is not supported (every frame would be decoded)");
        return (info.Width, info.Height);
    }

    private static T Guard<T>(string name, long maxPixels, Func<T> decode)
    {
        try { return decode(); }
        catch (InvalidMemoryOperationException e)
        {
            throw new ImageLoadException(name,
                string.Create(CultureInfo.InvariantCulture, $"decoding needs a buffer larger than the {maxPixels:N0}-pixel limit allows"),
                    e);
        }
        catch (Exception e) when (e is ImageFormatException or NotSupportedException or EndOfStreamException
                                     or IndexOutOfRangeException or ArgumentException or InvalidOperationException)
        {
            // ImageFormatException covers UnknownImageFormatException and InvalidImageContentException;
            // the rest are what ImageSharp 2.x decoders throw on some malformed inputs.
            throw new ImageDecodeException(name, "corrupt or unsupported image data: " + e.Message, e);
        }
    }

    // RIFF....WEBPVP8X, then the chunk size and a flags byte whose bit 1 marks animation.
    private static bool IsAnimatedWebp(Stream stream, long start)
    {
        Span<byte> head = stackalloc byte[21];
        stream.Position = start;
        int read = 0;
        while (read < head.Length)
        {
            int n = stream.Read(head[read..]);
            if (n == 0) return false;
            read += n;
        }
        return BinaryPrimitives.ReadUInt32BigEndian(head[12..]) == 0x56503858u /* "VP8X" */ && (head[20] & 0x02) != 0;
    }

    private static Configuration ConfigurationFor(long maxPixels) => Configurations.GetOrAdd(maxPixels, max =>
    {
        var config = Configuration.Default.Clone();
        // 8 bytes a pixel covers the widest intermediate (16-bit RGBA) a decoder uses for the image.
        long limitMb = Math.Clamp(max * 8 / (1024 * 1024) + 1, 16, int.MaxValue);
        config.MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions { AllocationLimitMegabytes = (int)limitMb });
        config.ImageFormatsManager.SetDecoder(GifFormat.Instance, new GifDecoder { DecodingMode = FrameDecodingMode.First });
        config.ImageFormatsManager.SetDecoder(TiffFormat.Instance, new TiffDecoder { DecodingMode = FrameDecodingMode.First });
        return config;
    });
}
