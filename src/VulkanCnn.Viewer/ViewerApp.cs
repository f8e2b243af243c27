using System.Diagnostics;
using VulkanCnn.Imaging;
using VulkanCnn.Imaging.Frames;
using VulkanCnn.Viewer.Classifiers;
using VulkanCnn.Viewer.Glfw;
using VulkanCnn.Viewer.Overlay;
using VulkanCnn.Viewer.Presentation;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Viewer;

/// <summary>
/// The live viewer loop: newest frame from the source → one upload to the shared frame buffer → one tick of the
/// classifier (at most one network slice) → overlay → display (window through the swapchain, or off screen to
/// PNG files). Display and network share the device's one queue, interleaved frame by frame.
/// </summary>
public static class ViewerApp
{
    /// <summary>Runs until Esc, the window closing, the frame limit or the end of a finite source (video file, non-looping folder). The
    /// device must
    /// come from <see cref="WindowPresenter.DeviceOptions"/> unless <see cref="ViewerOptions.Headless"/>.</summary>
    public static ViewerReport Run(GpuDevice gpu, IFrameSource source, Func<FramePixels, ILiveClassifier> classifierFactory,
        ViewerOptions options)
    {
        using var pixels = new FramePixels(gpu, source.Width, source.Height, 3);
        pixels.Upload(new byte[source.Width * source.Height * 3]);
        var clock = Stopwatch.StartNew();
        using var classifier = classifierFactory(pixels);
        options.Log($"{classifier.Title} ready in {clock.Elapsed.TotalSeconds:0.0} s; source: {source.Description}");
        using var window = options.Headless ? null : GlfwWindow.Create(options.Width, options.Height, "vkcnn view");
        using var presenter = window is null ? null : new WindowPresenter(gpu, window, pixels, options.VSync);
        using var offscreen = window is null ? new OffscreenTarget(gpu, pixels, options.Width, options.Height) : null;
        if (presenter is not null) options.Log($"window {presenter.Width}x{presenter.Height}, present mode {presenter.PresentMode}");
        return new Loop(gpu, source, classifier, pixels, window, presenter, offscreen, options, clock).Run();
    }

    private sealed class Loop(GpuDevice gpu, IFrameSource source, ILiveClassifier classifier, FramePixels pixels, GlfwWindow? window,
        WindowPresenter? presenter, OffscreenTarget? offscreen, ViewerOptions options, Stopwatch clock)
    {
        private readonly FrameOverlay _overlay = new();
        private readonly Queue<double> _frameTimes = new();
        private readonly List<string> _written = new();
        private readonly double _start = clock.Elapsed.TotalSeconds;
        private long _displayed, _currentFrame = -1, _scriptedFor = -1;
        private double? _firstResult;
        private double _latencySum;
        private int _latencyCount, _seenCompleted;
        private (string Text, double Until)? _message;
        private bool _overlayOn = options.Overlay;
        private readonly string _deviceLine = $"{gpu.Info.Name} ({gpu.Info.Type}, {gpu.Info.DriverName})";

        public ViewerReport Run()
        {
            double frameInterval = options.MaxFps > 0 ? 1.0 / options.MaxFps : 0;
            while ((options.Frames is not { } limit || _displayed < limit))
            {
                double frameStart = clock.Elapsed.TotalSeconds;
                if (window is not null)
                {
                    GlfwWindow.PollEvents();
                    if (window.ShouldClose) break;
                    if (Keys(window.TakeKeys())) break;
                }
                if (_scriptedFor != _displayed) // once per frame number, even when that frame is not shown
                {
                    _scriptedFor = _displayed;
                    if (Keys(options.ScriptedKeys.Where(k => k.Frame == _displayed).Select(k => k.Key))) break;
                    foreach (var r in options.ScriptedResizes.Where(r => r.Frame == _displayed)) window?.SetSize(r.Width, r.Height);
                }

                // Wait for the first frame; afterwards never wait on the source.
                var frame = source.Next(_currentFrame < 0 ? TimeSpan.FromSeconds(10) : TimeSpan.Zero);
                if (frame is null && source.IsFinished) break;
                if (frame is null
                    && _currentFrame < 0) throw new FrameSourceException($"{source.Description} delivered no frame within 10 s.");
                long? fresh = null;
                if (frame is not null)
                {
                    pixels.Upload(frame.Rgb);
                    fresh = _currentFrame = frame.Index;
                }
                classifier.Tick(fresh);
                TrackResults();
                if (!Display())
                {
                    gpu.WaitIdle(); // nothing waited for this frame's submissions: finish them before the next upload
                    continue;
                }
                _displayed++;
                _frameTimes.Enqueue(clock.Elapsed.TotalSeconds);
                while (_frameTimes.Count > 31) _frameTimes.Dequeue();
                double left = frameInterval - (clock.Elapsed.TotalSeconds - frameStart);
                if (left > 0.001) Thread.Sleep(TimeSpan.FromSeconds(left));
            }
            return Report();
        }

        /// <summary>Handles keys; true when the viewer should quit.</summary>
        private bool Keys(IEnumerable<int> keys)
        {
            foreach (int key in keys)
            {
                if (key == GlfwNative.KeyEscape) return true;
                if (key == GlfwNative.KeyO) _overlayOn = !_overlayOn;
                if (classifier.OnKey(key) is { } message)
                {
                    _message = (message, clock.Elapsed.TotalSeconds + 4);
                    options.Log(message);
                }
            }
            return false;
        }

        private void TrackResults()
        {
            if (classifier.TakeNotice() is { } notice) options.Log(notice);
            if (classifier.Completed == _seenCompleted || classifier.Latest is not { } p) return;
            _seenCompleted = classifier.Completed;
            _firstResult ??= clock.Elapsed.TotalSeconds;
            _latencySum += p.LatencyMilliseconds;
            _latencyCount++;
            if (_latencyCount <= 3 || _latencyCount % 25 == 0)
                options.Log($"frame #{p.FrameIndex}: {string.Join(", ", p.Top.Select(c => $"{c.Label} {c.Probability:P1}"))} " +
                    $"({p.LatencyMilliseconds:0} ms)");
        }

        /// <summary>Draws the frame; false when nothing was shown (minimised window, swapchain rebuilt).</summary>
        private bool Display()
        {
            var composer = presenter?.Composer ?? offscreen!.Composer;
            if (_overlayOn)
                OverlayLayout.Build(_overlay, composer.OutputWidth, composer.OutputHeight, new OverlayLayout.Info(
                    classifier.Title, _deviceLine, DisplayFps, InferencesPerSecond,
                    classifier.Latest?.LatencyMilliseconds ?? 0, _currentFrame, classifier.Latest, classifier.Status, classifier.Hints,
                    _message is { } m && m.Until > clock.Elapsed.TotalSeconds ? m.Text : options.SourceNote));
            else _overlay.Clear();
            composer.UploadOverlay(_overlay);
            if (presenter is not null)
            {
                var outcome = presenter.Present();
                if (outcome == PresentOutcome.Minimised) GlfwWindow.WaitEvents(0.05);
                return outcome == PresentOutcome.Presented;
            }
            offscreen!.Render();
            if (options.OutputDirectory is { } dir && _displayed % Math.Max(1, options.SaveEvery) == 0)
            {
                string path = Path.Combine(dir, $"frame_{_displayed:D5}.png");
                offscreen.SavePng(path);
                _written.Add(path);
            }
            return true;
        }

        private double DisplayFps => _frameTimes.Count < 2 ? 0 : (_frameTimes.Count - 1) / (_frameTimes.Last() - _frameTimes.Peek());
        private double InferencesPerSecond => classifier.Completed / Math.Max(1e-9, clock.Elapsed.TotalSeconds - _start);

        private ViewerReport Report()
        {
            double seconds = clock.Elapsed.TotalSeconds - _start;
            var recordings = presenter?.DisplayRecordings ?? [offscreen!.DisplayRecording];
            int toHost = recordings.Sum(r => r.Commands.Count(c => c.DeviceToHost));
            var p = classifier.Latest;
            return new ViewerReport(_displayed, seconds, _displayed / Math.Max(1e-9, seconds), classifier.Completed, InferencesPerSecond,
                _latencyCount == 0 ? 0 : _latencySum / _latencyCount, _firstResult, presenter?.Recreations ?? 0, toHost,
                presenter?.PresentMode ?? "offscreen", p is null ? null
                    : $"frame #{p.FrameIndex}: " + string.Join(", ", p.Top.Select(c => $"{c.Label} {c.Probability:P1}")),
                _written);
        }
    }
}
