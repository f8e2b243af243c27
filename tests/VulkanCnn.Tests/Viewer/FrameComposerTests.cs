using VulkanCnn.Imaging;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Viewer.Overlay;
using VulkanCnn.Viewer.Presentation;

namespace VulkanCnn.Tests.Viewer;

/// <summary>The display pass (view_compose) against a naive CPU rendering of the same frame and overlay.</summary>
public sealed class FrameComposerTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>Letterbox, bilinear or nearest sampling, alpha-blended rectangles and 5x7 text, written by hand.</summary>
    private static byte[] Reference(byte[] rgb, int fw, int fh, int ow, int oh, FrameOverlay overlay, bool nearestExpected)
    {
        double scale = Math.Min((double)ow / fw, (double)oh / fh);
        int vw = (int)Math.Round(fw * scale), vh = (int)Math.Round(fh * scale), vx = (ow - vw) / 2, vy = (oh - vh) / 2;
        Assert.Equal(nearestExpected, vw >= 4 * fw);
        double Px(int x, int y, int c) => rgb[(Math.Clamp(y, 0, fh - 1) * fw + Math.Clamp(x, 0, fw - 1)) * 3 + c];
        var words = overlay.Words.ToArray();
        var result = new byte[ow * oh * 4];
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
            {
                var color = new double[3];
                if (x >= vx && y >= vy && x < vx + vw && y < vy + vh)
                {
                    double sx = (x - vx + 0.5) * fw / vw - 0.5, sy = (y - vy + 0.5) * fh / vh - 0.5;
                    for (int c = 0; c < 3; c++)
                        if (nearestExpected) color[c] = Px((int)Math.Floor(sx + 0.5), (int)Math.Floor(sy + 0.5), c);
                        else
                        {
                            int x0 = (int)Math.Floor(sx), y0 = (int)Math.Floor(sy);
                            double fx = sx - x0, fy = sy - y0;
                            color[c] = (Px(x0, y0, c) * (1 - fx) + Px(x0 + 1, y0, c) * fx) * (1 - fy) + (Px(x0, y0 + 1,
                                c) * (1 - fx) + Px(x0 + 1, y0 + 1, c) * fx) * fy;
                        }
                }
                for (int r = 0; r < words[0]; r++)
                {
                    int b = 4 + 5 * r;
                    if (x < words[b] || y < words[b + 1] || x >= words[b + 2] || y >= words[b + 3]) continue;
                    uint rc = words[b + 4];
                    double a = (rc >> 24) / 255.0;
                    for (int c = 0; c < 3; c++) color[c] = color[c] * (1 - a) + ((rc >> (8 * c)) & 0xFF) * a;
                }
                for (int l = 0; l < words[1]; l++)
                {
                    int b = 4 + 5 * 32 + 20 * l;
                    int scaleText = (int)(words[b + 2] & 0xFF), length = (int)(words[b + 2] >> 8);
                    int dx = x - (int)words[b], dy = y - (int)words[b + 1];
                    if (dx < 0 || dy < 0 || dy >= 7 * scaleText || dx >= length * 6 * scaleText) continue;
                    int col = dx / scaleText, k = col / 6;
                    char ch = (char)((words[b + 4 + k / 4] >> (k % 4 * 8)) & 0xFF);
                    if (col % 6 < 5 && BitmapFont.IsInk(ch, col % 6, dy / scaleText))
                        for (int c = 0; c < 3; c++) color[c] = (words[b + 3] >> (8 * c)) & 0xFF;
                }
                for (int c = 0; c < 3; c++) result[(y * ow + x) * 4 + c] = (byte)Math.Clamp(Math.Round(color[c]), 0, 255);
                result[(y * ow + x) * 4 + 3] = 255;
            }
        return result;
    }

    private static void AssertClosePixels(byte[] expected, byte[] actual, int width)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (Math.Abs(expected[i] - actual[i]) > 1) // 8-bit output: at most one step of rounding difference
                Assert.Fail($"pixel ({i / 4 % width}, {i / 4 / width}) channel {i % 4}: expected {expected[i]}, got {actual[i]}");
    }

    [Theory]
    [InlineData(37, 23, 64, 48, false, TensorPath.Mapped)]   // wider than tall: bars above and below, bilinear
    [InlineData(23, 37, 64, 48, false, TensorPath.Staging)]  // taller than wide: bars left and right
    [InlineData(7, 5, 64, 64, true, TensorPath.Mapped)]      // tiny frame shown with hard pixel edges
    public void Frame_is_letterboxed_and_sampled_like_the_reference(int fw, int fh, int ow, int oh, bool nearest, TensorPath path)
    {
        var device = Gpu.Get(path);
        var rgb = new byte[fw * fh * 3];
        new Random(fw * 31 + fh).NextBytes(rgb);
        using var pixels = new FramePixels(device, fw, fh);
        pixels.Upload(rgb);
        using var target = new OffscreenTarget(device, pixels, ow, oh);
        var overlay = new FrameOverlay();
        target.Composer.UploadOverlay(overlay);
        target.Render();
        AssertClosePixels(Reference(rgb, fw, fh, ow, oh, overlay, nearest), target.ReadRgba(), ow);
    }

    [Theory]
    [MemberData(nameof(BothPaths))]
    public void Overlay_rectangles_blend_and_text_is_drawn_from_the_font(TensorPath path)
    {
        var device = Gpu.Get(path);
        const int fw = 40, fh = 30, ow = 120, oh = 90;
        var rgb = new byte[fw * fh * 3];
        new Random(5).NextBytes(rgb);
        using var pixels = new FramePixels(device, fw, fh);
        pixels.Upload(rgb);
        using var target = new OffscreenTarget(device, pixels, ow, oh);
        var overlay = new FrameOverlay();
        overlay.Rect(0, 0, 120, 20, FrameOverlay.Color(0, 0, 0, 170));
        overlay.Rect(10, 30, 70, 46, FrameOverlay.Color(60, 200, 90, 235));
        overlay.Rect(50, 40, 200, 60, FrameOverlay.Color(255, 0, 0, 128)); // overlaps the previous one and the edge
        overlay.Text(2, 2, "Top-1: cat 97.5%", FrameOverlay.Color(255, 255, 255));
        overlay.Text(4, 60, "Ab~?", FrameOverlay.Color(255, 220, 80), scale: 3);
        overlay.Text(100, 80, "edge text runs off", FrameOverlay.Color(10, 20, 30));
        target.Composer.UploadOverlay(overlay);
        target.Render();
        var actual = target.ReadRgba();
        AssertClosePixels(Reference(rgb, fw, fh, ow, oh, overlay, nearestExpected: false), actual, ow);

        // The overlay changes what is shown: render again without it.
        overlay.Clear();
        target.Composer.UploadOverlay(overlay);
        target.Render();
        Assert.NotEqual(actual, target.ReadRgba());
    }

    [Fact]
    public void Bgra_order_swaps_red_and_blue()
    {
        var rgb = new byte[] { 200, 100, 50 };
        using var pixels = new FramePixels(Device, 1, 1);
        pixels.Upload(rgb);
        using var composer = new FrameComposer(Device, pixels, 2, 2, PixelOrder.Bgra);
        composer.UploadOverlay(new FrameOverlay());
        using var rec = new VulkanCnn.Vulkan.CommandRecording(Device, "compose");
        rec.Dispatch(composer.Kernel);
        rec.Finish();
        rec.Run();
        var words = new float[4];
        composer.Output.Download(words);
        foreach (uint w in System.Runtime.InteropServices.MemoryMarshal.Cast<float, uint>(words))
            Assert.Equal(50u | 100u << 8 | 200u << 16 | 255u << 24, w);
    }

    [Fact]
    public void Overlay_packing_cuts_long_text_drops_extra_items_and_marks_unknown_characters()
    {
        var overlay = new FrameOverlay();
        for (int i = 0; i < 40; i++) overlay.Rect(i, i, i + 1, i + 1, FrameOverlay.Color(1, 2, 3, 4));
        Assert.Equal(FrameOverlay.MaxRects, overlay.RectCount);
        overlay.Rect(5, 5, 5, 9, 0); // empty: ignored even when there is room
        overlay.Text(0, 0, new string('x', 100), 0);
        overlay.Text(0, 10, "é", 0);
        Assert.Equal(2, overlay.LineCount);
        var words = overlay.Words;
        int line0 = 4 + 5 * FrameOverlay.MaxRects, line1 = line0 + 20;
        Assert.Equal(64u, words[line0 + 2] >> 8);
        Assert.Equal((uint)'?', words[line1 + 4] & 0xFF);
        for (int i = 0; i < 30; i++) overlay.Text(0, i, "a", 0);
        Assert.Equal(FrameOverlay.MaxLines, overlay.LineCount);
    }
}
