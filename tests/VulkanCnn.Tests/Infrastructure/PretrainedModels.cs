namespace VulkanCnn.Tests.Infrastructure;

/// <summary>
/// Pretrained models that come with NuGet packages of the test project.
/// Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 ships the CNTK-exported ResNet18 (ImageNet weights,
/// classifier removed) and copies it to the output folder under DnnImageModels/.
/// </summary>
public static class PretrainedModels
{
    private const string Package = "microsoft.ml.dnnimagefeaturizer.resnet18";
    private const string Version = "0.23.1";

    /// <summary>ResNet18 features, opset 8: input <c>Input247</c> [1, 3, 224, 224] (BGR, 0..255 minus a
    /// per-pixel mean image, see <see cref="ResNetPreprocessOnnx"/>), output <c>Pooling395_Output_0</c> [1, 512, 1, 1].</summary>
    public static string ResNet18Onnx => Find("ResNet18Onnx", "ResNet18.onnx");

    /// <summary>The ML.NET preprocessing graph for it: input <c>OriginalInput</c> [1, 3, 224, 224] RGB 0..255,
    /// output <c>PreprocessedInput</c>: channels reversed to BGR, minus the mean image.</summary>
    public static string ResNetPreprocessOnnx => Find("ResNetPrepOnnx", "ResNetPreprocess.onnx");

    /// <summary>ResNet18Onnx's input without the preprocessing graph: BGR, 0..255, minus the per-channel average of the model's
    /// mean image (see PretrainedResNet18Tests).</summary>
    public static VulkanCnn.Imaging.ImagePreprocessOptions CntkInput => new()
    {
        ChannelOrder = VulkanCnn.Imaging.ChannelOrder.Bgr,
        Range = VulkanCnn.Imaging.PixelRange.ZeroTo255,
        Mean = [103.06f, 115.90f, 123.15f],
        Std = [1f, 1f, 1f],
    };

    private static string Find(string folder, string file)
    {
        string output = Path.Combine(AppContext.BaseDirectory, "DnnImageModels", folder, file);
        if (File.Exists(output)) return output;
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                          ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string cached = Path.Combine(packages, Package, Version, "tools", "DnnImageModels", folder, file);
        if (File.Exists(cached)) return cached;
        throw new FileNotFoundException(
            $"{file} is missing: looked for {output} and {cached}. It comes from the NuGet package " +
            $"Microsoft.ML.DnnImageFeaturizer.ResNet18 {Version}, a PackageReference of tests/VulkanCnn.Tests; " +
            "run 'dotnet build tests/VulkanCnn.Tests' (with access to the package feed) so it is restored and copied.", output);
    }
}
