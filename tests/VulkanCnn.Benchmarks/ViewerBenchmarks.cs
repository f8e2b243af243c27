using BenchmarkDotNet.Attributes;
using VulkanCnn.Imaging;
using VulkanCnn.Viewer.Classifiers;
using VulkanCnn.Viewer.Overlay;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Benchmarks;

/// <summary>
/// The viewer's per-frame GPU work at 640x480: the display pass (letterbox + overlay, what each displayed
/// frame costs before the copy into the swapchain) with the usual overlay and without one, and the network's
/// GPU preprocessing of a camera frame to 224x224.
/// </summary>
public class ViewerBenchmarks : IDisposable
{
    private GpuDevice _gpu = null!;
    private FramePixels _pixels = null!;
    private FrameComposer _composer = null!;
    private Tensor _input = null!;
    private GpuImagePreprocessor _preprocessor = null!;
    private CommandRecording _compose = null!, _preprocess = null!;
    private readonly FrameOverlay _overlay = new(), _empty = new();

    [GlobalSetup]
    public void Setup()
    {
        _gpu = BenchmarkDevice.Create();
        _pixels = new FramePixels(_gpu, 640, 480);
        var rgb = new byte[640 * 480 * 3];
        new Random(1).NextBytes(rgb);
        _pixels.Upload(rgb);
        _composer = new FrameComposer(_gpu, _pixels, 640, 480, PixelOrder.Bgra);
        OverlayLayout.Build(_overlay, 640, 480, new OverlayLayout.Info("Teach by showing: ResNet18 features + linear head", "llvmpipe",
            21.3, 1.2, 750, 1234, new Prediction([new("cat", 0.9f), new("dog", 0.07f), new("car", 0.03f)], 1200, 750),
            ["samples 1:5  2:4", "head v3 trained in 420 ms"],
                ["1-9: capture the frame as class k", "S: save head  L: load head  Esc: quit"], null));
        _compose = new CommandRecording(_gpu, "compose");
        _compose.Dispatch(_composer.Kernel);
        _compose.Finish();
        _input = Tensor.Create(_gpu, [1, 3, 224, 224]);
        _preprocessor = new GpuImagePreprocessor(_gpu, _pixels, ImagePreprocessOptions.ImageNet, _input);
        _preprocess = new CommandRecording(_gpu, "preprocess");
        _preprocess.Dispatch(_preprocessor.Kernel);
        _preprocess.Finish();
    }

    [Benchmark(Description = "compose 640x480 with overlay")]
    public void ComposeWithOverlay()
    {
        _composer.UploadOverlay(_overlay);
        _compose.Run();
    }

    [Benchmark(Description = "compose 640x480, no overlay")]
    public void ComposePlain()
    {
        _composer.UploadOverlay(_empty);
        _compose.Run();
    }

    [Benchmark(Description = "preprocess 640x480 -> 224x224")]
    public void Preprocess() => _preprocess.Run();

    [GlobalCleanup]
    public void Dispose()
    {
        _preprocess?.Dispose(); _preprocessor?.Dispose(); _input?.Dispose();
        _compose?.Dispose(); _composer?.Dispose(); _pixels?.Dispose(); _gpu?.Dispose();
        GC.SuppressFinalize(this);
    }
}
