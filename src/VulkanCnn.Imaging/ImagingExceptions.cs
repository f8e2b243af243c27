using System.Globalization;

namespace VulkanCnn.Imaging;

/// <summary>An image could not be turned into a tensor. <see cref="SourceName"/> names the file (or stream).</summary>
public class ImageLoadException : Exception
{
    public ImageLoadException(string source, string message, Exception? inner = null)
        : base($"{source}: {message}", inner) => SourceName = source;

    /// <summary>The file path, or the name given for a stream.</summary>
    public string SourceName { get; }
}

/// <summary>The image is not a readable image: unknown format, corrupt or truncated data.</summary>
public sealed class ImageDecodeException(string source, string message, Exception? inner = null)
    : ImageLoadException(source, message, inner);

/// <summary>The image's header declares more pixels than allowed. Raised before any pixel buffer is
/// allocated, so a crafted header cannot exhaust memory.</summary>
public sealed class ImageTooLargeException : ImageLoadException
{
    public ImageTooLargeException(string source, long width, long height, long maxPixels, Exception? inner = null)
        : base(source, string.Create(CultureInfo.InvariantCulture,
                   $"image is {width}x{height} = {width * height:N0} pixels, more than the limit of {maxPixels:N0} " +
                       $"(ImagePreprocessOptions.MaxPixels)"), inner)
    {
        Width = width;
        Height = height;
        MaxPixels = maxPixels;
    }

    public long Width { get; }
    public long Height { get; }
    public long MaxPixels { get; }
}
