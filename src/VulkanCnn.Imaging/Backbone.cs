using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Onnx;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Imaging;

/// <summary>
/// The pretrained ImageNet ResNet18 feature extractor from NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18
/// (CNTK export: BGR 0..255 minus the ImageNet mean, 224x224 → 512 features), run as a GPU session.
/// </summary>
public sealed class Backbone : IDisposable
{
    /// <summary>How frames become the backbone's input (the CNTK export's convention).</summary>
    public static ImagePreprocessOptions InputOptions { get; } = new()
    {
        ChannelOrder = ChannelOrder.Bgr,
        Range = PixelRange.ZeroTo255,
        Mean = [103.06f, 115.90f, 123.15f],
        Std = [1f, 1f, 1f],
    };
    private readonly Session _session;

    public Backbone(GpuDevice gpu, string? path = null)
    {
        Path = path ?? Locate();
        _session = gpu.Compile(OnnxImporter.Load(Path));
    }

    public string Path { get; }
    public const int Features = 512;

    /// <summary>What a head's metadata says it was trained on (<see cref="VulkanCnn.Training.LinearHead.Save"/>).</summary>
    public const string Description = "ResNet18 (Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1)";

    /// <summary>VKCNN_RESNET18, else the NuGet package cache; a clear error says how to get it.</summary>
    public static string Locate()
    {
        if (Environment.GetEnvironmentVariable("VKCNN_RESNET18") is { Length: > 0 } env) return env;
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = System.IO.Path.Combine(packages, "microsoft.ml.dnnimagefeaturizer.resnet18", "0.23.1", "tools", "DnnImageModels",
            "ResNet18Onnx", "ResNet18.onnx");
        return File.Exists(path) ? path : throw new FileNotFoundException(
            $"The pretrained ResNet18 was not found at {path}. Restore the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 " +
            "(`./build.sh build` does, through the test project) or point VKCNN_RESNET18 / --backbone at ResNet18.onnx.", path);
    }

    /// <summary>The 512 features of an image file.</summary>
    public float[] Extract(string imagePath) => _session.Run(ImagePreprocessor.Load(imagePath, InputOptions).Data);

    public void Dispose() => _session.Dispose();
}
