using System.ComponentModel;
using System.Diagnostics;

namespace VulkanCnn.Imaging.Frames;

/// <summary>
/// Frames decoded by an <c>ffmpeg</c> subprocess as raw RGB24 on stdout: camera (v4l2 on Linux,
/// dshow on Windows, avfoundation on macOS), video file, or the lavfi test pattern. stderr is
/// drained so ffmpeg never blocks; a reader thread keeps only the newest frames.
/// </summary>
public sealed class FfmpegFrameSource : IFrameSource
{
    private readonly Process _process;
    private readonly Thread _reader;
    private readonly LatestFrames _frames = new();
    private readonly System.Text.StringBuilder _stderr = new();

    private FfmpegFrameSource(string description, int width, int height, IEnumerable<string> inputArgs, string ffmpeg)
    {
        Description = description;
        Width = width;
        Height = height;
        var info = new ProcessStartInfo(ffmpeg)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true
        };
        foreach (var a in new[] { "-hide_banner", "-loglevel", "error" }.Concat(inputArgs)
                     .Concat(["-vf", $"scale={width}:{height}", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]))
            info.ArgumentList.Add(a);
        try { _process = Process.Start(info) ?? throw new FrameSourceException($"{ffmpeg} did not start."); }
        catch (Win32Exception e)
        {
            throw new FrameSourceException($"ffmpeg was not found ({ffmpeg}): install it (Debian/Ubuntu: `sudo apt-get install ffmpeg`; " +
                $"./build.sh does).", e);
        }
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.BeginErrorReadLine();
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "ffmpeg frames" };
        _reader.Start();
    }

    /// <summary>The program started by default (found on PATH; build.sh installs Debian's ffmpeg).</summary>
    public const string DefaultExecutable = "ffmpeg";

    public string Description { get; }
    public int Width { get; }
    public int Height { get; }
    public long Dropped => _frames.Dropped;
    /// <summary>What ffmpeg reported on stderr (for error messages).</summary>
    public string Diagnostics { get { lock (_stderr) return _stderr.ToString().Trim(); } }

    /// <summary>The lavfi SMPTE colour bars test pattern, paced like a camera at <paramref name="fps"/>.</summary>
    public static FfmpegFrameSource TestPattern(int width = 640, int height = 480, int fps = 30, string ffmpeg = DefaultExecutable) =>
        new($"test pattern (SMPTE bars) {width}x{height}@{fps}", width, height,
            ["-re", "-f", "lavfi", "-i", $"smptebars=size={width}x{height}:rate={fps}"], ffmpeg);

    public static FfmpegFrameSource VideoFile(string path, int width, int height, string ffmpeg = DefaultExecutable) =>
        File.Exists(path) ? new($"video {Path.GetFileName(path)}", width, height, ["-re", "-i", path], ffmpeg)
            : throw new FrameSourceException($"Video file '{path}' does not exist.");

    /// <summary>A camera: a device path or index (/dev/video0 or 0 on Linux; a device name on Windows/macOS).</summary>
    public static FfmpegFrameSource Camera(string device, int width = 640, int height = 480, string ffmpeg = DefaultExecutable)
    {
        if (OperatingSystem.IsLinux())
        {
            string path = int.TryParse(device, out int n) ? $"/dev/video{n}" : device;
            if (!File.Exists(path))
            {
                string found = string.Join(", ", ListCameras());
                throw new FrameSourceException($"No camera at {path}. Cameras found: {(found.Length > 0 ? found : "none")}.");
            }
            return new($"camera {path}", width, height, ["-f", "v4l2", "-i", path], ffmpeg);
        }
        if (OperatingSystem.IsWindows()) return new($"camera {device}", width, height, ["-f", "dshow", "-i", $"video={device}"], ffmpeg);
        if (OperatingSystem.IsMacOS()) return new($"camera {device}", width, height, ["-f", "avfoundation", "-i", device], ffmpeg);
        throw new FrameSourceException("Cameras are supported through ffmpeg on Linux (v4l2), Windows (dshow) and macOS (avfoundation).");
    }

    /// <summary>Camera devices this machine exposes (Linux: /dev/video*; elsewhere ffmpeg lists them itself).</summary>
    public static IReadOnlyList<string> ListCameras() =>
        OperatingSystem.IsLinux() && Directory.Exists("/dev") ? Directory.GetFiles("/dev", "video*").Order(StringComparer.Ordinal).ToList()
            : [];

    public Frame? Next(TimeSpan timeout) => _frames.TakeNewest(timeout);
    public bool IsFinished => _frames.IsDrained;

    private void ReadLoop()
    {
        var stream = _process.StandardOutput.BaseStream;
        var clock = Stopwatch.StartNew();
        int size = Width * Height * 3;
        for (long index = 0; ; index++)
        {
            var buffer = new byte[size];
            int read = 0;
            try
            {
                while (read < size)
                {
                    int n = stream.Read(buffer, read, size - read);
                    if (n == 0) { _frames.Complete(); return; }
                    read += n;
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                _frames.Complete();
                return;
            }
            _frames.Add(new Frame(buffer, Width, Height, index, clock.Elapsed));
        }
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        _process.WaitForExit(5000);
        _reader.Join(5000);
        _process.Dispose();
    }
}
