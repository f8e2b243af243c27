namespace VulkanCnn.Imaging.Frames;

/// <summary>One decoded frame: packed 8-bit RGB pixels, row-major, no padding.</summary>
public sealed record Frame(byte[] Rgb, int Width, int Height, long Index, TimeSpan Timestamp);

/// <summary>
/// Where live frames come from (test pattern, camera, video file, image, image folder). A source
/// keeps only the newest frames (a small ring buffer that drops stale ones) so a slow consumer
/// never lags behind reality; <see cref="Dropped"/> counts what was skipped.
/// </summary>
public interface IFrameSource : IDisposable
{
    string Description { get; }
    int Width { get; }
    int Height { get; }
    long Dropped { get; }
    /// <summary>The newest frame not returned yet, waiting up to <paramref name="timeout"/>; null at the end of a finite source.</summary>
    Frame? Next(TimeSpan timeout);
    /// <summary>True once a finite source (video file, non-looping slideshow) has delivered its last frame.</summary>
    bool IsFinished => false;
}

/// <summary>A frame source could not start (ffmpeg missing, no camera, unreadable file); the message says what to do.</summary>
public sealed class FrameSourceException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A bounded buffer of the newest frames: a full buffer drops its oldest frame. Thread-safe.</summary>
public sealed class LatestFrames(int capacity = 2)
{
    private readonly Queue<Frame> _frames = new();
    private readonly object _gate = new();
    private bool _completed;

    public long Dropped { get; private set; }

    /// <summary>Completed and every frame taken.</summary>
    public bool IsDrained { get { lock (_gate) return _completed && _frames.Count == 0; } }

    public void Add(Frame frame)
    {
        lock (_gate)
        {
            if (_frames.Count == capacity) { _frames.Dequeue(); Dropped++; }
            _frames.Enqueue(frame);
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>No more frames will come (end of file, process exit).</summary>
    public void Complete()
    {
        lock (_gate) { _completed = true; Monitor.PulseAll(_gate); }
    }

    /// <summary>The newest frame (older buffered ones count as dropped), or null on timeout / completion.</summary>
    public Frame? TakeNewest(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_gate)
        {
            while (_frames.Count == 0 && !_completed)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !Monitor.Wait(_gate, left)) return null;
            }
            if (_frames.Count == 0) return null;
            while (_frames.Count > 1) { _frames.Dequeue(); Dropped++; }
            return _frames.Dequeue();
        }
    }
}
