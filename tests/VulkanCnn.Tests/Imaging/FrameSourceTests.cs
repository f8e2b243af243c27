using VulkanCnn.Imaging.Frames;

using VulkanCnn.Tests.Infrastructure;

namespace VulkanCnn.Tests.Imaging;

/// <summary>Frame sources: ffmpeg's test pattern, still images, stale-frame dropping, missing camera/ffmpeg.</summary>
public sealed class FrameSourceTests
{
    [Fact]
    public void The_test_pattern_delivers_rgb_frames_of_the_requested_size()
    {
        using var source = FfmpegFrameSource.TestPattern(64, 48, fps: 30);
        var first = source.Next(TimeSpan.FromSeconds(10));
        Assert.NotNull(first);
        Assert.Equal(64 * 48 * 3, first!.Rgb.Length);
        var second = source.Next(TimeSpan.FromSeconds(5));
        Assert.NotNull(second);
        Assert.True(second!.Index > first.Index);
        Assert.Contains(first.Rgb, b => b > 200); // the pattern has bright bars
    }

    [Fact]
    public void A_slow_consumer_gets_the_newest_frame_and_stale_ones_are_dropped()
    {
        var buffer = new LatestFrames(capacity: 2);
        for (int i = 0; i < 5; i++) buffer.Add(new Frame([], 0, 0, i, TimeSpan.Zero));
        var newest = buffer.TakeNewest(TimeSpan.Zero);
        Assert.Equal(4, newest!.Index);
        Assert.Equal(4, buffer.Dropped);
        Assert.Null(buffer.TakeNewest(TimeSpan.FromMilliseconds(10)));
        buffer.Complete();
        Assert.Null(buffer.TakeNewest(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void A_missing_camera_falls_back_to_the_test_pattern_with_a_note()
    {
        using var source = FrameSources.Open("camera:/dev/video-does-not-exist", 32, 24, out var note);
        Assert.Contains("No camera at /dev/video-does-not-exist", note);
        Assert.Contains("test pattern", source.Description);
        Assert.NotNull(source.Next(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void A_missing_ffmpeg_is_a_clear_error()
    {
        var e = Assert.Throws<FrameSourceException>(() => FfmpegFrameSource.TestPattern(32, 24, ffmpeg: "/nonexistent/ffmpeg"));
        Assert.Contains("apt-get install ffmpeg", e.Message);
    }

    [Fact]
    public void Still_images_and_folders_become_frames()
    {
        string folder = Path.Combine(Repo.PathOf("tests", "assets", "images"));
        using var slideshow = new StillFrameSource(folder, 40, 30, interval: TimeSpan.Zero, loop: false);
        int frames = 0;
        while (slideshow.Next(TimeSpan.FromSeconds(1)) is { } f) { Assert.Equal(40 * 30 * 3, f.Rgb.Length); frames++; }
        Assert.Equal(slideshow.Paths.Count, frames);
        Assert.Throws<FrameSourceException>(() => new StillFrameSource("/nonexistent.png", 4, 4));
    }
}
