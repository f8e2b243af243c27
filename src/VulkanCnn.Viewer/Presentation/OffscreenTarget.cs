using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using VulkanCnn.Imaging;
using VulkanCnn.Viewer.Overlay;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Viewer.Presentation;

/// <summary>
/// The headless display: the same compose pass as the window, into a GPU buffer that is read back and written
/// as PNG files (for machines without a display, CI, and the annotated frames of <c>vkcnn view --headless</c>).
/// </summary>
public sealed class OffscreenTarget : IDisposable
{
    private readonly CommandRecording _recording;
    private readonly float[] _pixels;

    public OffscreenTarget(GpuDevice gpu, FramePixels frame, int width, int height)
    {
        Composer = new FrameComposer(gpu, frame, width, height, PixelOrder.Rgba);
        _pixels = new float[width * height];
        try
        {
            _recording = new CommandRecording(gpu, "offscreen display");
            _recording.Dispatch(Composer.Kernel);
            _recording.Finish();
        }
        catch
        {
            Composer.Dispose();
            throw;
        }
    }

    public FrameComposer Composer { get; }
    public int Width => Composer.OutputWidth;
    public int Height => Composer.OutputHeight;
    public CommandRecording DisplayRecording => _recording;

    /// <summary>Composes the current frame and overlay on the GPU and waits for it.</summary>
    public void Render() => _recording.Run(TimeSpan.FromSeconds(60));

    /// <summary>Reads the last rendered frame back as RGBA bytes (device to host: headless output only).</summary>
    public byte[] ReadRgba()
    {
        Composer.Output.Download(_pixels);
        return System.Runtime.InteropServices.MemoryMarshal.AsBytes(_pixels.AsSpan()).ToArray();
    }

    /// <summary>Writes the last rendered frame as a PNG file (folders created as needed).</summary>
    public void SavePng(string path)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
        Composer.Output.Download(_pixels);
        using var image = Image.LoadPixelData(System.Runtime.InteropServices.MemoryMarshal.Cast<float, Rgba32>(_pixels.AsSpan()), Width,
            Height);
        image.SaveAsPng(path);
    }

    public void Dispose()
    {
        _recording.Dispose();
        Composer.Dispose();
    }
}
