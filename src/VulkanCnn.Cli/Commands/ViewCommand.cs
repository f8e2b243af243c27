using Spectre.Console;
using System.CommandLine;
using VulkanCnn.Imaging;
using VulkanCnn.Imaging.Frames;
using VulkanCnn.Training.Data;
using VulkanCnn.Viewer;
using VulkanCnn.Viewer.Classifiers;
using VulkanCnn.Viewer.Glfw;
using VulkanCnn.Viewer.Presentation;
using VulkanCnn.Viewer.Sources;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Cli.Commands;

/// <summary>
/// <c>vkcnn view</c>: the live viewer. Classifier: an ONNX model with labels (<c>--model --labels</c>), teach by
/// showing on ResNet18 features (<c>--teach</c>), or a Fashion-MNIST checkpoint on the test-set slideshow (default).
/// Source: camera, camera:N, a video/image file, an image folder, testsrc, or fashion-mnist.
/// </summary>
internal static class ViewCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo?>("--model") { Description = "ONNX image classifier ([1,3,H,W] → class scores)." };
        var labels = new Option<FileInfo?>("--labels") { Description = "Class names, one per line (with --model)." };
        var checkpoint = new Option<FileInfo?>("--checkpoint")
        {
            Description = "Fashion-MNIST checkpoint from vkcnn train (default: the " +
            "bundled small CNN)."
        };
        var teach = new Option<bool>("--teach")
        {
            Description = "Teach by showing: keys 1-9 capture samples, a head trains on ResNet18 " +
            "features."
        };
        var head = new Option<string>("--head")
        {
            Description = "Head file for S (save) and L (load) in --teach mode.",
            DefaultValueFactory = _ => "head.safetensors"
        };
        var classes = new Option<string?>("--classes") { Description = "Names of the classes of keys 1..9, comma-separated (--teach)." };
        var backbone = new Option<string?>("--backbone")
        {
            Description = "ResNet18.onnx for --teach (default: VKCNN_RESNET18 or the " +
            "NuGet cache)."
        };
        var source = new Option<string?>("--source")
        {
            Description = "camera, camera:N, testsrc, FILE, DIR or fashion-mnist (default: " +
            "fashion-mnist for the Fashion-MNIST model, else camera)."
        };
        var headless = new Option<bool>("--headless") { Description = "No window: render off screen and write PNG frames (--out)." };
        var frames = new Option<long?>("--frames")
        {
            Description = "Stop after N displayed frames (default: until Esc; 60 when headless).",
        };
        var output = new Option<string?>("--out") { Description = "Folder for the headless PNG frames (default: vkcnn-view)." };
        var width = new Option<int>("--width") { DefaultValueFactory = _ => 640, Description = "Window width." };
        var height = new Option<int>("--height") { DefaultValueFactory = _ => 480, Description = "Window height." };
        var noOverlay = new Option<bool>("--no-overlay") { Description = "Show the frame only (O toggles it live)." };
        var vsync = new Option<bool>("--vsync") { Description = "Present with FIFO (vsync) instead of mailbox/immediate." };
        var maxFps = new Option<double>("--max-fps")
        {
            DefaultValueFactory = _ => 30,
            Description = "Display rate cap; the rest of each frame goes to the network."
        };
        var budget = new Option<double>("--budget-ms")
        {
            DefaultValueFactory = _ => 12,
            Description = "GPU time per network slice (one slice per displayed frame)."
        };
        var slide = new Option<int?>("--slide-ms") { Description = "Time per Fashion-MNIST slide (default 800 ms; 150 ms headless)." };
        var letterbox = new Option<bool>("--letterbox")
        {
            Description = "--model: fit the whole frame with grey bars instead of a " +
            "center crop."
        };
        var bgr = new Option<bool>("--bgr") { Description = "--model takes BGR input." };
        var range255 = new Option<bool>("--range-255") { Description = "--model takes pixels in 0..255 (default 0..1)." };
        var mean = new Option<string?>("--mean") { Description = "Per-channel mean R,G,B (default: ImageNet's, in the input's range)." };
        var std = new Option<string?>("--std") { Description = "Per-channel std R,G,B (default: ImageNet's)." };
        var keys = new Option<string?>("--keys") { Description = "Scripted key presses FRAME:KEY,... (e.g. 30:1,60:2,90:S)." };
        var resize = new Option<string?>("--resize-at") { Description = "Scripted window resizes FRAME:WxH,... (tests)." };
        var command = new Command("view", "Live classification viewer (window, or headless PNG frames).")
        {
            model, labels, checkpoint, teach, head, classes, backbone, source, headless, frames, output, width, height,
            noOverlay, vsync, maxFps, budget, slide, letterbox, bgr, range255, mean, std, keys, resize,
        };
        command.SetAction(r => Run(GlobalOptions.DeviceOptions(r), new ViewSettings
        {
            Model = r.GetValue(model)?.FullName,
            Labels = r.GetValue(labels)?.FullName,
            Checkpoint = r.GetValue(checkpoint)?.FullName,
            Teach = r.GetValue(teach),
            Head = r.GetValue(head)!,
            Classes = r.GetValue(classes)?.Split(',', StringSplitOptions.TrimEntries),
            Backbone = r.GetValue(backbone),
            Source = r.GetValue(source),
            Headless = r.GetValue(headless),
            Frames = r.GetValue(frames),
            Out = r.GetValue(output),
            Width = r.GetValue(width),
            Height = r.GetValue(height),
            Overlay = !r.GetValue(noOverlay),
            VSync = r.GetValue(vsync),
            MaxFps = r.GetValue(maxFps),
            BudgetMs = r.GetValue(budget),
            SlideMs = r.GetValue(slide),
            Letterbox = r.GetValue(letterbox),
            Bgr = r.GetValue(bgr),
            Range255 = r.GetValue(range255),
            Mean = ViewSettings.ParseTriple(r.GetValue(mean), "--mean"),
            Std = ViewSettings.ParseTriple(r.GetValue(std), "--std"),
            Keys = ViewSettings.ParseKeys(r.GetValue(keys)),
            Resizes = ViewSettings.ParseResizes(r.GetValue(resize)),
        }));
        return command;
    }

    public static int Run(GpuDeviceOptions deviceOptions, ViewSettings s)
    {
        Validate(s);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        bool headless = s.Headless;
        GpuDevice? window = null;
        if (!headless)
        {
            // No display, no GLFW, or a device that cannot make a swapchain: say why and write PNG frames instead.
            try { window = GpuDevice.Create(WindowPresenter.DeviceOptions(deviceOptions)); }
            catch (Exception e) when (e is DisplayUnavailableException or VulkanException and not NoVulkanDeviceException)
            {
                NoWindow(e.Message);
                headless = true;
            }
        }
        using var gpu = window ?? GpuDevice.Create(deviceOptions);
        bool fashion = s.Model is null && !s.Teach;
        string sourceSpec = s.Source ?? (fashion ? "fashion-mnist" : "camera");
        AnsiConsole.MarkupLine($"Device: [bold]{Markup.Escape(gpu.Info.Name)}[/] ({gpu.Info.Type}), ready in " +
            $"{clock.Elapsed.TotalSeconds:0.0} s");
        FashionMnist? test = fashion || sourceSpec == "fashion-mnist" ? FashionMnist.Load(train: false) : null;
        string? note = null;
        using IFrameSource frameSource = sourceSpec == "fashion-mnist"
            ? new FashionMnistSlideshow(test!, TimeSpan.FromMilliseconds(s.SlideMs ?? (headless ? 150 : 800)))
            : FrameSources.Open(sourceSpec, 640, 480, out note);
        if (note is not null) AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(note)}[/]");
        if (fashion && frameSource is not FashionMnistSlideshow)
            throw new ArgumentException("The Fashion-MNIST model classifies the test-set slideshow: use --source fashion-mnist, or " +
                "--model/--teach for other sources.", "--source");

        Func<FramePixels, ILiveClassifier> factory = s.Model is { } m
            ? pixels => new OnnxClassifier(gpu, m, OnnxClassifier.ReadLabels(s.Labels!), pixels, Preprocess(s), s.BudgetMs)
            : s.Teach ? pixels => new TeachByShowingClassifier(gpu, pixels, s.BudgetMs, s.Classes, s.Head, s.Backbone)
            : _ => new FashionMnistClassifier(gpu, s.Checkpoint ?? ViewSettings.BundledCheckpoint, test!,
                ((FashionMnistSlideshow)frameSource).SampleOf);
        double beforeViewer = clock.Elapsed.TotalSeconds;
        ViewerOptions Options(bool offscreen) => new()
        {
            Width = s.Width,
            Height = s.Height,
            Frames = s.Frames ?? (offscreen ? 60 : null),
            Headless = offscreen,
            OutputDirectory = offscreen ? s.Out ?? "vkcnn-view" : null,
            Overlay = s.Overlay,
            VSync = s.VSync,
            MaxFps = s.MaxFps,
            ScriptedKeys = s.Keys,
            ScriptedResizes = s.Resizes,
            SourceNote = note,
            Log = line => AnsiConsole.WriteLine(line),
        };
        ViewerReport report;
        try { report = ViewerApp.Run(gpu, frameSource, factory, Options(headless)); }
        catch (DisplayUnavailableException e) when (!headless)
        {
            NoWindow(e.Message); // e.g. this device cannot present to the window's surface
            headless = true;
            report = ViewerApp.Run(gpu, frameSource, factory, Options(headless));
        }
        string? outDir = headless ? s.Out ?? "vkcnn-view" : null;
        Print(report, outDir, beforeViewer);
        return 0;
    }

    private static void NoWindow(string reason) =>
        AnsiConsole.MarkupLine($"[yellow]No window here[/]: {Markup.Escape(reason)}\nRunning headless: annotated PNG frames instead.");

    private static void Validate(ViewSettings s)
    {
        if (s.Model is not null && s.Labels is null) throw new ArgumentException("--model needs --labels (one class name per line).",
            "--labels");
        if (s.Model is not null && s.Teach) throw new ArgumentException("Use either --model or --teach.", "--teach");
        if (s.Model is not null && !File.Exists(s.Model)) throw new FileNotFoundException($"Model '{s.Model}' was not found.", s.Model);
        string checkpoint = s.Checkpoint ?? ViewSettings.BundledCheckpoint;
        if (s.Model is null && !s.Teach
            && !File.Exists(checkpoint)) throw new FileNotFoundException($"Checkpoint '{checkpoint}' was not found (train one with " +
                $"`vkcnn train`).", checkpoint);
        if (s.Width < 64 || s.Height < 64) throw new ArgumentOutOfRangeException("--width", "The window is at least 64x64.");
        if (s.BudgetMs <= 0) throw new ArgumentOutOfRangeException("--budget-ms", s.BudgetMs, "--budget-ms must be positive.");
        if (s.Frames is < 1) throw new ArgumentOutOfRangeException("--frames", s.Frames, "--frames must be at least 1.");
    }

    private static ImagePreprocessOptions Preprocess(ViewSettings s)
    {
        float scale = s.Range255 ? 255f : 1f;
        var mean = s.Mean ?? ImagePreprocessOptions.ImageNet.Mean!.Select(v => v * scale).ToArray();
        var std = s.Std ?? ImagePreprocessOptions.ImageNet.Std!.Select(v => v * scale).ToArray();
        return new ImagePreprocessOptions
        {
            ChannelOrder = s.Bgr ? ChannelOrder.Bgr : ChannelOrder.Rgb,
            Range = s.Range255 ? PixelRange.ZeroTo255 : PixelRange.ZeroToOne,
            Mean = mean,
            Std = std,
            ResizeShorterSide = 0,
            Fit = s.Letterbox ? ImageFit.Letterbox : ImageFit.CenterCrop,
        };
    }

    private static void Print(ViewerReport r, string? outDir, double beforeViewer)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("viewer").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("frames displayed", $"{r.FramesDisplayed} in {r.Seconds:0.0} s ({r.PresentMode})");
        table.AddRow("display FPS", $"{r.DisplayFps:0.0}");
        table.AddRow("inferences", $"{r.Inferences} ({r.InferencesPerSecond:0.00}/s, mean latency {r.MeanLatencyMs:0} ms)");
        table.AddRow("first result", r.FirstResultSeconds is { } f ? $"{beforeViewer + f:0.0} s after vkcnn started" : "none");
        table.AddRow("device-to-host copies (display)", r.DisplayDeviceToHostCopies.ToString());
        if (r.SwapchainRecreations > 0) table.AddRow("swapchain recreations", r.SwapchainRecreations.ToString());
        if (r.LastPrediction is not null) table.AddRow("last prediction", Markup.Escape(r.LastPrediction));
        if (outDir is not null) table.AddRow("PNG frames", $"{r.WrittenFiles.Count} in {Markup.Escape(Path.GetFullPath(outDir))}");
        AnsiConsole.Write(table);
    }
}
