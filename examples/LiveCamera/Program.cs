// LiveCamera: the viewer's building blocks in an application's own frame loop, the way a game embeds them.
// One VkDevice runs the network and owns the swapchain; each frame: poll input, upload the newest camera
// frame once, give the classifier one tick (one frame-budget slice of the network), draw the overlay, present.
//
//   dotnet run --project examples/LiveCamera -c Release -- [SOURCE [MODEL.onnx LABELS.txt]]
//
// SOURCE: camera (default), camera:N, testsrc, an image, a folder or a video. Without a model: teach by
// showing on the pretrained ResNet18 (keys 1-9 capture samples, S/L save/load the head). Esc quits.
using VulkanCnn.Imaging;
using VulkanCnn.Imaging.Frames;
using VulkanCnn.Viewer.Classifiers;
using VulkanCnn.Viewer.Glfw;
using VulkanCnn.Viewer.Overlay;
using VulkanCnn.Viewer.Presentation;
using VulkanCnn.Vulkan;

string spec = args.Length > 0 ? args[0] : "camera";
GpuDeviceOptions options;
try { options = WindowPresenter.DeviceOptions(); }
catch (DisplayUnavailableException e)
{
    Console.Error.WriteLine($"{e.Message}\nFor a machine without a display: vkcnn view --headless --source {spec}");
    return 2;
}

using var source = FrameSources.Open(spec, 640, 480, out string? note);
if (note is not null) Console.WriteLine(note);
using var gpu = GpuDevice.Create(options);
using var pixels = new FramePixels(gpu, source.Width, source.Height);
pixels.Upload(new byte[source.Width * source.Height * 3]);
using ILiveClassifier classifier = args.Length >= 3
    ? new OnnxClassifier(gpu, args[1], OnnxClassifier.ReadLabels(args[2]), pixels,
        ImagePreprocessOptions.ImageNet with { ResizeShorterSide = 0 }, budgetMilliseconds: 12)
    : new TeachByShowingClassifier(gpu, pixels, budgetMilliseconds: 12);
using var window = GlfwWindow.Create(640, 480, "LiveCamera - " + classifier.Title);
using var presenter = new WindowPresenter(gpu, window, pixels);
var overlay = new FrameOverlay();
uint white = FrameOverlay.Color(255, 255, 255), bar = FrameOverlay.Color(60, 200, 90, 230), panel = FrameOverlay.Color(0, 0, 0, 160);

while (!window.ShouldClose)
{
    GlfwWindow.PollEvents();
    foreach (int key in window.TakeKeys())
        if (key == GlfwWindow.KeyEscape) window.RequestClose();
        else if (classifier.OnKey(key) is { } message) Console.WriteLine(message);

    var frame = source.Next(TimeSpan.Zero);           // newest frame, never waits
    if (frame is not null) pixels.Upload(frame.Rgb);  // one upload, shared by display and network
    classifier.Tick(frame?.Index);                    // at most one slice of the network

    overlay.Clear();
    overlay.Rect(0, 0, presenter.Width, 24 + 20 * (classifier.Latest?.Top.Count ?? 0), panel);
    overlay.Text(6, 6, classifier.Hints.FirstOrDefault() ?? "", white, 2);
    int y = 26;
    foreach (var c in classifier.Latest?.Top ?? [])
    {
        overlay.Rect(6, y, 6 + (int)(200 * c.Probability), y + 16, bar);
        overlay.Text(214, y + 1, $"{c.Label} {c.Probability:P0}", white, 2);
        y += 20;
    }
    presenter.Composer.UploadOverlay(overlay);
    if (presenter.Present() == PresentOutcome.Minimised) GlfwWindow.WaitEvents(0.1);
}
return 0;
