namespace VulkanCnn.Imaging.Frames;

/// <summary>Opens a source from a spec: <c>camera</c>, <c>camera:N</c>, <c>testsrc</c>, a video file, an image or a folder.</summary>
public static class FrameSources
{
    private static readonly string[] VideoExtensions = [".mp4", ".mkv", ".avi", ".mov", ".webm"];

    /// <summary>Opens <paramref name="spec"/>; a camera that cannot start falls back to the test pattern, with the reason in <paramref
    /// name="note"/>.</summary>
    public static IFrameSource Open(string spec, int width, int height, out string? note,
        string ffmpeg = FfmpegFrameSource.DefaultExecutable)
    {
        note = null;
        if (spec == "testsrc") return FfmpegFrameSource.TestPattern(width, height, ffmpeg: ffmpeg);
        if (spec == "camera" || spec.StartsWith("camera:", StringComparison.Ordinal))
        {
            string device = spec == "camera" ? "0" : spec["camera:".Length..];
            try { return FfmpegFrameSource.Camera(device, width, height, ffmpeg); }
            catch (FrameSourceException e)
            {
                note = e.Message + " Showing the test pattern instead.";
                return FfmpegFrameSource.TestPattern(width, height, ffmpeg: ffmpeg);
            }
        }
        if (File.Exists(spec) && VideoExtensions.Contains(Path.GetExtension(spec).ToLowerInvariant()))
            return FfmpegFrameSource.VideoFile(spec, width, height, ffmpeg);
        return new StillFrameSource(spec, width, height);
    }
}
