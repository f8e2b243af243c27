using VulkanCnn.Vulkan;

namespace VulkanCnn.Imaging;

/// <summary>
/// A GPU buffer holding one frame's packed 8-bit RGB/RGBA pixels exactly as decoded (4 bytes per 32-bit word).
/// Kernels that read frames (<see cref="GpuImagePreprocessor"/>, the viewer's display pass) bind it, so a frame
/// is uploaded once for all of them, straight into mapped memory or through a staging buffer kept for the
/// frame's life (<see cref="TensorUploader"/>): no allocation and no extra CPU copy per frame.
/// </summary>
public sealed class FramePixels : IDisposable
{
    private readonly TensorUploader _uploader;

    public FramePixels(GpuDevice device, int width, int height, int channels = 3, string name = "frame.pixels")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (channels is not (3 or 4)) throw new ArgumentOutOfRangeException(nameof(channels), channels,
            "Frames are packed RGB (3) or RGBA (4).");
        Width = width; Height = height; Channels = channels;
        int words = (width * height * channels + 3) / 4;
        Tensor = Tensor.Create(device, [words], name, DataType.Int32);
        try { _uploader = new TensorUploader(Tensor); }
        catch { Tensor.Dispose(); throw; }
    }

    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }
    public Tensor Tensor { get; }

    /// <summary>Copies one frame (width·height·channels bytes, row-major, no padding) to the GPU.</summary>
    public void Upload(ReadOnlySpan<byte> frame)
    {
        int bytes = Width * Height * Channels;
        if (frame.Length != bytes)
            throw new ArgumentException($"A {Width}x{Height}x{Channels} frame has {bytes} bytes; got {frame.Length}.", nameof(frame));
        var target = _uploader.Bytes;
        frame.CopyTo(target);
        target[bytes..].Clear(); // the last word's unused bytes
        _uploader.Commit();
    }

    public void Dispose()
    {
        _uploader.Dispose();
        Tensor.Dispose();
    }
}
