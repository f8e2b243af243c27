using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace VulkanCnn.Imaging.Frames;

/// <summary>An image file, or a folder of images shown as a slideshow (one image per <c>interval</c>), as frames.</summary>
public sealed class StillFrameSource : IFrameSource
{
    private readonly IReadOnlyList<string> _paths;
    private readonly TimeSpan _interval;
    private readonly bool _loop;
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private long _next;

    public StillFrameSource(string fileOrFolder, int width, int height, TimeSpan? interval = null, bool loop = true)
    {
        _paths = Directory.Exists(fileOrFolder)
            ? Directory.EnumerateFiles(fileOrFolder).Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase)
                || f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase)
                || f.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase)
                    || f.EndsWith(".bmp", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList()
            : File.Exists(fileOrFolder) ? [fileOrFolder]
                : throw new FrameSourceException($"'{fileOrFolder}' is neither an image file nor a folder.");
        if (_paths.Count == 0) throw new FrameSourceException($"Folder '{fileOrFolder}' holds no .png/.jpg/.bmp images.");
        Width = width;
        Height = height;
        _interval = interval ?? TimeSpan.FromSeconds(1);
        _loop = loop;
        Description = _paths.Count == 1 ? $"image {Path.GetFileName(_paths[0])}" : $"slideshow of {_paths.Count} images";
    }

    public string Description { get; }
    public int Width { get; }
    public int Height { get; }
    public long Dropped => 0;
    public IReadOnlyList<string> Paths => _paths;
    public bool IsFinished => !_loop && _next >= _paths.Count;

    public Frame? Next(TimeSpan timeout)
    {
        if (!_loop && _next >= _paths.Count) return null;
        var due = _interval * _next;
        var wait = due - _clock.Elapsed;
        if (wait > timeout) { Thread.Sleep(timeout); return null; }
        if (wait > TimeSpan.Zero) Thread.Sleep(wait);
        string path = _paths[(int)(_next % _paths.Count)];
        using var image = ImageDecoder.DecodeRgb24(path);
        image.Mutate(x => x.Resize(Width, Height));
        var rgb = new byte[Width * Height * 3];
        image.CopyPixelDataTo(rgb);
        return new Frame(rgb, Width, Height, _next++, _clock.Elapsed);
    }

    public void Dispose() { }
}
