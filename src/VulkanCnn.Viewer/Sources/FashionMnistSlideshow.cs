using System.Diagnostics;
using VulkanCnn.Imaging.Frames;
using VulkanCnn.Training.Data;

namespace VulkanCnn.Viewer.Sources;

/// <summary>The Fashion-MNIST test images as frames, one per <c>interval</c>, in a seeded shuffled order. Frame indices
/// count up like any source's; <see cref="SampleOf"/> gives the test-set index behind a frame (so a classifier can
/// check its answer).</summary>
public sealed class FashionMnistSlideshow : IFrameSource
{
    private readonly FashionMnist _test;
    private readonly int[] _order;
    private readonly TimeSpan _interval;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _shown = -1;

    public FashionMnistSlideshow(FashionMnist test, TimeSpan interval, int seed = 1)
    {
        _test = test;
        _interval = interval;
        _order = Enumerable.Range(0, test.Count).ToArray();
        new Random(seed).Shuffle(_order);
    }

    public string Description => $"Fashion-MNIST test images ({_test.Count}), one per {_interval.TotalMilliseconds:0} ms";
    public int Width => 28;
    public int Height => 28;
    public long Dropped => 0;

    /// <summary>The next image once its time has come (the first at once), else null after <paramref name="timeout"/>.</summary>
    public Frame? Next(TimeSpan timeout)
    {
        long due = _shown + 1;
        var wait = due * _interval - _clock.Elapsed;
        if (wait > timeout) { if (timeout > TimeSpan.Zero) Thread.Sleep(timeout); return null; }
        if (wait > TimeSpan.Zero) Thread.Sleep(wait);
        _shown = due;
        var grey = _test.Pixels(SampleOf(due));
        var rgb = new byte[28 * 28 * 3];
        for (int i = 0; i < grey.Length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i];
        return new Frame(rgb, 28, 28, due, _clock.Elapsed);
    }

    /// <summary>The test-set index of frame <paramref name="frameIndex"/>.</summary>
    public int SampleOf(long frameIndex) => _order[frameIndex % _order.Length];

    public void Dispose() { }
}
