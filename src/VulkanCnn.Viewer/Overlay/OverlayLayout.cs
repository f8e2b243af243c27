using VulkanCnn.Viewer.Classifiers;

namespace VulkanCnn.Viewer.Overlay;

/// <summary>Lays out the viewer's overlay: a translucent top panel with the title, timing, device and the top
/// classes with probability bars, and a bottom panel with status and key hints.</summary>
public static class OverlayLayout
{
    private static readonly uint Panel = FrameOverlay.Color(0, 0, 0, 170), White = FrameOverlay.Color(255, 255, 255),
        Grey = FrameOverlay.Color(190, 190, 190), Yellow = FrameOverlay.Color(255, 220, 80),
        BarBack = FrameOverlay.Color(60, 60, 60, 220), BarFill = FrameOverlay.Color(60, 200, 90, 235);

    public sealed record Info(string Title, string Device, double DisplayFps, double InferencesPerSecond, double LatencyMs,
        long CurrentFrame, Prediction? Prediction, IReadOnlyList<string> Status, IReadOnlyList<string> Hints, string? Message);

    public static void Build(FrameOverlay overlay, int width, int height, Info info)
    {
        overlay.Clear();
        int pad = 6, y = pad;
        int topRows = info.Prediction?.Top.Count ?? 1;
        int topHeight = pad + 16 + 10 + 10 + 10 + 4 + topRows * 20 + pad;
        overlay.Rect(0, 0, width, Math.Min(height, topHeight), Panel);
        int chars1 = Math.Clamp((width - 2 * pad) / 6, 1, FrameOverlay.MaxChars),
            chars2 = Math.Clamp((width - 2 * pad) / 12, 1, FrameOverlay.MaxChars);
        overlay.Text(pad, y, Cut(info.Title, chars2), White, 2); y += 16;
        string prediction = info.Prediction is { } p ? $"result of frame #{p.FrameIndex} (now #{info.CurrentFrame})"
            : "waiting for the first result";
        overlay.Text(pad, y,
            Cut($"display {info.DisplayFps:0.0} FPS | inference {info.InferencesPerSecond:0.00}/s, {info.LatencyMs:0} ms", chars1),
                Grey); y += 10;
        overlay.Text(pad, y, Cut(prediction, chars1), Grey); y += 10;
        overlay.Text(pad, y, Cut(info.Device, chars1), Grey); y += 14;
        int barX = pad, barW = Math.Max(20, width / 3);
        foreach (var c in info.Prediction?.Top ?? [])
        {
            overlay.Rect(barX, y, barX + barW, y + 16, BarBack);
            overlay.Rect(barX, y, barX + (int)Math.Round(barW * Math.Clamp(c.Probability, 0, 1)), y + 16, BarFill);
            overlay.Text(barX + barW + 8, y + 1,
                Cut($"{c.Label} {c.Probability * 100:0.0}%", Math.Clamp((width - barW - 3 * pad) / 12, 1, FrameOverlay.MaxChars)), White,
                    2);
            y += 20;
        }
        var bottom = info.Status.Concat(info.Message is null ? [] : [info.Message]).Concat(info.Hints).ToList();
        if (bottom.Count == 0) return;
        int bottomTop = Math.Max(topHeight, height - pad - bottom.Count * 10 - pad);
        overlay.Rect(0, bottomTop, width, height, Panel);
        y = bottomTop + pad;
        for (int i = 0; i < bottom.Count; i++, y += 10)
            overlay.Text(pad, y, Cut(bottom[i], chars1), i < info.Status.Count ? White : i < bottom.Count - info.Hints.Count ? Yellow
                : Grey);
    }

    private static string Cut(string s, int max) => s.Length <= max ? s : s[..Math.Max(0, max - 3)] + "...";
}
