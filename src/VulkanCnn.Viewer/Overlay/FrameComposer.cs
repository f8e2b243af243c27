using System.Runtime.InteropServices;
using VulkanCnn.Imaging;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Viewer.Overlay;

/// <summary>Byte order of the composed pixels: BGRA for the usual swapchain format, RGBA for PNG files.</summary>
public enum PixelOrder { Rgba, Bgra }

/// <summary>
/// The display pass (shader <c>view_compose</c>): the frame's packed 8-bit pixels, letterboxed into an
/// output of <c>OutputWidth</c>×<c>OutputHeight</c>, with the <see cref="FrameOverlay"/> drawn on top, into
/// <see cref="Output"/> (one packed pixel per 32-bit word). The frame buffer is the caller's (the same one the
/// network's GPU preprocessing reads), so a frame is uploaded once for both.
/// </summary>
public sealed class FrameComposer : IDisposable
{
    private readonly Tensor _overlay, _font;
    private readonly TensorUploader _overlayUploader;
    private const int Tile = 16;
    private readonly float[] _overlayStage;
    private readonly int _tilesX, _tilesY;

    public FrameComposer(GpuDevice gpu, FramePixels frame, int outputWidth, int outputHeight, PixelOrder order)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outputWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputHeight, 1);
        OutputWidth = outputWidth; OutputHeight = outputHeight; Order = order;
        // The same placement as the GPU preprocessing's letterbox fit.
        View = ImagePreprocessor.LetterboxPlacement(frame.Width, frame.Height, outputWidth, outputHeight);
        _tilesX = (outputWidth + Tile - 1) / Tile;
        _tilesY = (outputHeight + Tile - 1) / Tile;
        _overlayStage = new float[FrameOverlay.WordCount + 2 * _tilesX * _tilesY];
        var owned = new List<IDisposable>();
        try
        {
            _overlay = Track(owned, Tensor.Create(gpu, [_overlayStage.Length], "overlay", DataType.Int32));
            _overlayUploader = Track(owned, new TensorUploader(_overlay));
            _overlayUploader.Upload(MemoryMarshal.AsBytes(_overlayStage.AsSpan()));
            _font = Track(owned, Tensor.FromData(gpu, [BitmapFont.GlyphCount * BitmapFont.RowsPerGlyph],
                MemoryMarshal.Cast<uint, float>(BitmapFont.PackRows()), "font"));
            Output = Track(owned, Tensor.Create(gpu, [outputWidth * outputHeight], "composed frame", DataType.Int32));
            // Tiny frames (Fashion-MNIST's 28x28) are shown with hard pixel edges rather than a blur.
            bool nearest = View.Width >= 4 * frame.Width;
            uint flags = (order == PixelOrder.Bgra ? 1u : 0u) | 2u | (nearest ? 4u : 0u);
            var push = new Push((uint)frame.Width, (uint)frame.Height, (uint)frame.Channels, (uint)outputWidth, (uint)outputHeight,
                View.X, View.Y, (uint)View.Width, (uint)View.Height, flags, (uint)_tilesX);
            uint local = gpu.DefaultWorkgroupSize;
            var (gx, gy) = gpu.Grid1D((long)outputWidth * outputHeight, local);
            Kernel = Track(owned, new BoundKernel(gpu.GetPipeline(new PipelineKey("view_compose", 4, 44, local)),
                [frame.Tensor.Range, _overlay.Range, _font.Range, Output.Range], (gx, gy, 1),
                MemoryMarshal.AsBytes(new ReadOnlySpan<Push>(in push)), "view_compose"));
        }
        catch
        {
            for (int i = owned.Count - 1; i >= 0; i--) owned[i].Dispose();
            throw;
        }
    }

    public int OutputWidth { get; }
    public int OutputHeight { get; }
    public PixelOrder Order { get; }
    /// <summary>Where the frame lands in the output (aspect ratio kept, centred, black bars around).</summary>
    public (int X, int Y, int Width, int Height) View { get; }
    /// <summary>The composed pixels: OutputWidth·OutputHeight packed 32-bit words, row-major.</summary>
    public Tensor Output { get; }
    /// <summary>The compose dispatch, to record into a display recording.</summary>
    public BoundKernel Kernel { get; }

    /// <summary>Copies the overlay to the GPU (host to device, a few KiB). Call only while no display recording using it runs.</summary>
    public void UploadOverlay(FrameOverlay overlay)
    {
        var words = MemoryMarshal.Cast<float, uint>(_overlayStage.AsSpan());
        overlay.Words.CopyTo(words);
        var tiles = words[FrameOverlay.WordCount..];
        tiles.Clear();
        for (int r = 0; r < overlay.RectCount; r++)
        {
            var (x0, y0, x1, y1) = overlay.RectBounds(r);
            MarkTiles(tiles, x0, y0, x1, y1, 0, 1u << r);
        }
        for (int l = 0; l < overlay.LineCount; l++)
        {
            var (x0, y0, x1, y1) = overlay.LineBounds(l);
            MarkTiles(tiles, x0, y0, x1, y1, 1, 1u << l);
        }
        _overlayUploader.Upload(MemoryMarshal.AsBytes(_overlayStage.AsSpan()));
    }

    private void MarkTiles(Span<uint> tiles, int x0, int y0, int x1, int y1, int slot, uint bit)
    {
        x1 = Math.Min(x1, OutputWidth); y1 = Math.Min(y1, OutputHeight);
        for (int ty = y0 / Tile; ty * Tile < y1; ty++)
            for (int tx = x0 / Tile; tx * Tile < x1; tx++)
                tiles[2 * (ty * _tilesX + tx) + slot] |= bit;
    }

    public void Dispose()
    {
        Kernel?.Dispose();
        Output?.Dispose();
        _font?.Dispose();
        _overlayUploader?.Dispose();
        _overlay?.Dispose();
    }

    private static T Track<T>(List<IDisposable> owned, T item) where T : IDisposable
    {
        owned.Add(item);
        return item;
    }

    private readonly record struct Push(uint FrameWidth, uint FrameHeight, uint Channels, uint OutWidth, uint OutHeight,
        int ViewX, int ViewY, uint ViewWidth, uint ViewHeight, uint Flags, uint TilesX);
}
