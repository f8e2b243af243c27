using SixLabors.ImageSharp;
using VulkanCnn.Imaging.Frames;
using VulkanCnn.Training.Data;
using VulkanCnn.Viewer.Sources;

namespace VulkanCnn.Tests.Viewer;

/// <summary>Frame sources as the viewer uses them: indices that count up, and finite sources that say they ended.</summary>
public sealed class ViewerSourcesTests
{
    [Fact]
    public void Fashion_mnist_slideshow_counts_frames_up_and_maps_each_to_its_test_sample()
    {
        var test = FashionMnist.Load(train: false, limit: 50);
        using var show = new FashionMnistSlideshow(test, TimeSpan.Zero, seed: 3);
        var frames = Enumerable.Range(0, 60).Select(_ => show.Next(TimeSpan.FromSeconds(1))!).ToList();
        Assert.Equal(Enumerable.Range(0, 60).Select(i => (long)i), frames.Select(f => f.Index));
        Assert.Equal(50, frames.Take(50).Select(f => show.SampleOf(f.Index)).Distinct().Count()); // a permutation, then it wraps
        foreach (var f in frames.Take(5))
        {
            var grey = test.Pixels(show.SampleOf(f.Index)).ToArray();
            Assert.Equal(grey, Enumerable.Range(0, 784).Select(i => f.Rgb[3 * i + 1]));
        }
    }

    [Fact]
    public void A_folder_shown_once_reports_its_end()
    {
        string dir = Path.Combine(Path.GetTempPath(), "vkcnn-once-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            using (var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(4, 4))
            {
                image.SaveAsPng(Path.Combine(dir, "a.png"));
                image.SaveAsPng(Path.Combine(dir, "b.png"));
            }
            using var once = new StillFrameSource(dir, 8, 8, TimeSpan.Zero, loop: false);
            Assert.False(once.IsFinished);
            Assert.NotNull(once.Next(TimeSpan.FromSeconds(1)));
            Assert.NotNull(once.Next(TimeSpan.FromSeconds(1)));
            Assert.True(once.IsFinished);
            Assert.Null(once.Next(TimeSpan.Zero));
            using var looping = new StillFrameSource(dir, 8, 8, TimeSpan.Zero);
            for (int i = 0; i < 3; i++) looping.Next(TimeSpan.FromSeconds(1));
            Assert.False(looping.IsFinished);
        }
        finally { Directory.Delete(dir, true); }
    }
}
