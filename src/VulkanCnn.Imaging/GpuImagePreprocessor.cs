using System.Runtime.InteropServices;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Imaging;

/// <summary>
/// Frames to network input on the GPU (shader <c>image_preprocess</c>): the CPU uploads decoded
/// 8-bit RGB/RGBA pixels as they are, one dispatch resizes (plain 2-tap bilinear, no antialiasing;
/// shorter side to <c>ResizeShorterSide</c>) and center-crops, or letterboxes (as the CPU
/// <see cref="ImagePreprocessor"/>, with bars of <c>PadValue</c>), normalises and writes NCHW. Bound once per frame size;
/// per frame, <see cref="Upload"/> then a replay of a recording holding <see cref="Kernel"/> (no
/// managed allocation on devices with mapped memory).
/// </summary>
public sealed class GpuImagePreprocessor : IDisposable
{
    private readonly FramePixels _pixels;
    private readonly bool _ownsPixels;
    private readonly BoundKernel _kernel;

    /// <summary>Binds the kernel for frames of one size; <paramref name="output"/> is the [1, 3, cropH, cropW] tensor it writes (e.g. a
    /// session's input).</summary>
    public GpuImagePreprocessor(GpuDevice device, int width, int height, int channels, ImagePreprocessOptions options, Tensor output)
        : this(device, new FramePixels(device, width, height, channels), options, output, ownsPixels: true) { }

    /// <summary>Binds the kernel to a frame buffer the caller owns and uploads (shared with other frame readers).</summary>
    public GpuImagePreprocessor(GpuDevice device, FramePixels pixels, ImagePreprocessOptions options, Tensor output)
        : this(device, pixels, options, output, ownsPixels: false) { }

    private GpuImagePreprocessor(GpuDevice device, FramePixels pixels, ImagePreprocessOptions options, Tensor output, bool ownsPixels)
    {
        _pixels = pixels;
        _ownsPixels = ownsPixels;
        try { _kernel = Bind(device, pixels.Width, pixels.Height, pixels.Channels, options, output); }
        catch
        {
            if (ownsPixels) pixels.Dispose();
            throw;
        }
    }

    private BoundKernel Bind(GpuDevice device, int width, int height, int channels, ImagePreprocessOptions options, Tensor output)
    {
        options.Validate();
        if (channels is not (3 or 4)) throw new ArgumentOutOfRangeException(nameof(channels), channels,
            "Frames are packed RGB (3) or RGBA (4).");
        if (options.ChannelOrder == ChannelOrder.Grayscale) throw new ArgumentException("The GPU preprocessor writes 3 channels (RGB or " +
            "BGR).", nameof(options));
        int cropW = options.CropWidth > 0 ? options.CropWidth : width, cropH = options.CropHeight > 0 ? options.CropHeight : height;
        if (output.Shape != new TensorShape(1, 3, cropH, cropW))
            throw new ArgumentException($"Output '{output.Name}' is {output.Shape}; this preprocessing writes [1, 3, {cropH}, {cropW}].",
                nameof(output));
        float[] mean = options.Mean ?? [0, 0, 0], std = options.Std ?? [1, 1, 1];
        float range = options.Range == PixelRange.ZeroTo255 ? 255f : 1f;
        // Both fits are one mapping: output (x, y) inside the image rectangle samples source
        // ((x + offset + 0.5) * invScale - 0.5); outside it (letterbox bars) is the pad value.
        float invScaleX, invScaleY, offsetX, offsetY;
        int imageX = 0, imageY = 0, imageW = cropW, imageH = cropH;
        if (options.Fit == ImageFit.Letterbox)
        {
            (imageX, imageY, imageW, imageH) = ImagePreprocessor.LetterboxPlacement(width, height, cropW, cropH);
            (invScaleX, invScaleY) = ((float)((double)width / imageW), (float)((double)height / imageH));
            (offsetX, offsetY) = (-imageX, -imageY);
        }
        else
        {
            double scale = options.ResizeShorterSide > 0 ? (double)options.ResizeShorterSide / Math.Min(width, height) : 1;
            double resizedW = Math.Round(width * scale), resizedH = Math.Round(height * scale);
            invScaleX = invScaleY = (float)(1 / scale);
            (offsetX, offsetY) = ((float)Math.Floor((resizedW - cropW) / 2), (float)Math.Floor((resizedH - cropH) / 2));
        }
        var push = new Push((uint)width, (uint)height, (uint)channels, (uint)cropW, (uint)cropH,
            invScaleX, invScaleY, offsetX, offsetY, options.ChannelOrder == ChannelOrder.Bgr ? 1u : 0u,
            mean[0] / range, mean[1] / range, mean[2] / range, range / std[0], range / std[1], range / std[2],
            (uint)imageX, (uint)imageY, (uint)imageW, (uint)imageH, options.PadValue / 255f);
        uint local = device.DefaultWorkgroupSize;
        var (gx, gy) = device.Grid1D(3L * cropW * cropH, local);
        return new BoundKernel(device.GetPipeline(new PipelineKey("image_preprocess", 2, Marshal.SizeOf<Push>(), local)),
            [_pixels.Tensor.Range, output.Range], (gx, gy, 1), MemoryMarshal.AsBytes(new ReadOnlySpan<Push>(in push)), "image_preprocess");
    }

    public int Width => _pixels.Width;
    public int Height => _pixels.Height;
    public int Channels => _pixels.Channels;
    public BoundKernel Kernel => _kernel;

    /// <summary>Copies one frame's packed pixels (width·height·channels bytes) into the GPU buffer.</summary>
    public void Upload(ReadOnlySpan<byte> frame) => _pixels.Upload(frame);

    public void Dispose()
    {
        _kernel.Dispose();
        if (_ownsPixels) _pixels.Dispose();
    }

    // 84 bytes, in the shader's order.
    private readonly record struct Push(uint Width, uint Height, uint InChannels, uint OutWidth, uint OutHeight,
        float InvScaleX, float InvScaleY, float OffsetX, float OffsetY, uint Bgr,
        float Mean0, float Mean1, float Mean2, float InvStd0, float InvStd1, float InvStd2,
        uint ImageX, uint ImageY, uint ImageWidth, uint ImageHeight, float Pad);
}
