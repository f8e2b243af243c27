using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using System.Diagnostics;
using VulkanCnn.Nn;
using VulkanCnn.Onnx;
using VulkanCnn.Tests.Infrastructure;

namespace VulkanCnn.Tests.Viewer;

/// <summary>
/// `vkcnn view` as a user runs it, on the test run's Xvfb: a window showing the SMPTE test pattern through a small
/// ONNX classifier, checked by screenshots of the X screen (imagemagick `import`), quit with Esc sent by xdotool.
/// </summary>
[Collection(GpuCollection.Name)]
public sealed class ViewerWindowTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vkcnn-view-" + Guid.NewGuid().ToString("N"));
    private readonly string _model, _labels;

    public ViewerWindowTests()
    {
        Directory.CreateDirectory(_dir);
        _model = Path.Combine(_dir, "tiny.onnx");
        _labels = Path.Combine(_dir, "labels.txt");
        var net = new Sequential(Layers.Conv2d(3, 4, 3, stride: 2), Layers.ReLU(), Layers.AdaptiveAvgPool2d(1), Layers.Flatten(),
            Layers.Linear(4, 3));
        OnnxExporter.Save(net.ToGraph([1, 3, 32, 32], "tiny"), _model);
        File.WriteAllLines(_labels, ["red", "green", "blue"]);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string[] View(params string[] extra) =>
        ["view", "--model", _model, "--labels", _labels, "--source", "testsrc", "--validation", .. extra];

    /// <summary>Starts the viewer, takes a screenshot once it has shown frames for a while, then presses Esc.</summary>
    private (Image<Rgb24> Shot, string Stdout, string Stderr) ScreenshotThenEscape(params string[] extra)
    {
        using var p = Process.Start(Vkcnn.StartInfo(View(["--frames", "100000", .. extra]), VirtualDisplay.Name))!;
        var stdout = new System.Text.StringBuilder();
        var ready = new ManualResetEventSlim();
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stdout) stdout.AppendLine(e.Data);
            if (e.Data.StartsWith("frame #", StringComparison.Ordinal)) ready.Set();
        };
        p.BeginOutputReadLine();
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            Assert.True(ready.Wait(TimeSpan.FromSeconds(60)), "the viewer showed no result: " + stdout + stderr);
            Thread.Sleep(1500); // a first result came back: frames of the test pattern are being presented
            string png = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".png");
            var (shotCode, shotOutput) = RunWithDisplay("import", "-window", "root", png);
            Assert.True(shotCode == 0, shotOutput);
            // Only mapped windows: a window of an earlier viewer that the server has not destroyed yet has the same name.
            var (searchCode, windows) = RunWithDisplay("xdotool", "search", "--onlyvisible", "--name", "vkcnn view");
            Assert.True(searchCode == 0, windows);
            var keys = windows.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(id => RunWithDisplay("xdotool", "key", "--window", id.Trim(), "Escape")).ToList();
            Assert.True(keys.Any(k => k.Code == 0), string.Join("\n", keys.Select(k => k.Output)));
            Assert.True(p.WaitForExit(TimeSpan.FromSeconds(60)), "Esc did not close the viewer");
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, stdout + stderr.Result);
            return (Image.Load<Rgb24>(png), stdout.ToString(), stderr.Result);
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
    }

    private static (int Code, string Output) RunWithDisplay(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DISPLAY"] = VirtualDisplay.Name;
        using var p = Process.Start(info)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output + err.Result);
    }

    [Fact]
    public void Window_shows_the_colour_bars_with_an_overlay_and_Esc_quits_cleanly()
    {
        var (withOverlay, stdout, stderr) = ScreenshotThenEscape();
        var (plain, _, plainErr) = ScreenshotThenEscape("--no-overlay");
        using (withOverlay)
        using (plain)
        {
            Assert.DoesNotContain("validation error", stderr + plainErr);
            Assert.DoesNotContain("live object", stderr + plainErr); // every Vulkan object was destroyed before the device
            Assert.Matches(@"device-to-host copies \(display\)\s*│\s*0 ", stdout);
            // The window sits at the screen's origin (no window manager); the 640x480 frame fills it. SMPTE bars:
            // seven 75% bars across the top two thirds.
            (byte R, byte G, byte B)[] bars = [(190, 190, 190), (191, 190, 0), (0, 190, 190), (0, 189, 0), (190, 0, 190), (191, 0, 0),
                (0, 0, 191)];
            foreach (var shot in new[] { withOverlay, plain })
                for (int k = 0; k < bars.Length; k++)
                {
                    var px = shot[(int)((k + 0.5) * 640 / 7), 250];
                    Assert.True(Math.Abs(px.R - bars[k].R) <= 4 && Math.Abs(px.G - bars[k].G) <= 4 && Math.Abs(px.B - bars[k].B) <= 4,
                        $"bar {k} at x={(int)((k + 0.5) * 640 / 7)}: expected {bars[k]}, screen shows ({px.R}, {px.G}, {px.B})");
                }
            // The overlay's top panel (title, timing, top-k) changes the top rows; the rest of the bars are untouched.
            int changed = 0;
            for (int y = 0; y < 100; y++)
                for (int x = 0; x < 640; x++)
                    if (!withOverlay[x, y].Equals(plain[x, y])) changed++;
            Assert.True(changed > 640 * 100 / 4, $"only {changed} of {640 * 100} overlay pixels differ from the plain frame");
            for (int x = 0; x < 640; x += 7)
                Assert.Equal(plain[x, 300], withOverlay[x, 300]);
        }
    }

    [Fact]
    public void Scripted_resize_recreates_the_swapchain_and_the_run_ends_after_its_frames()
    {
        var (code, stdout, stderr) = Vkcnn.Run(View("--frames", "40", "--resize-at", "10:800x600", "--letterbox"), VirtualDisplay.Name);
        Assert.True(code == 0, stdout + stderr);
        Assert.DoesNotContain("validation error", stderr);
        Assert.Matches(@"frames displayed\s*│\s*40 in", stdout);
        Assert.Matches(@"swapchain recreations\s*│\s*[1-9]", stdout);
    }

    [Fact]
    public void Without_a_display_the_viewer_says_so_and_writes_png_frames_instead()
    {
        string output = Path.Combine(_dir, "frames");
        var (code, stdout, stderr) = Vkcnn.Run(View("--frames", "3", "--out", output), display: null);
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("No window here", stdout);
        Assert.Contains("DISPLAY", stdout);
        Assert.Equal(3, Directory.GetFiles(output, "frame_*.png").Length);
        using var frame = Image.Load<Rgb24>(Path.Combine(output, "frame_00002.png"));
        Assert.Equal((640, 480), (frame.Width, frame.Height));
    }
}
