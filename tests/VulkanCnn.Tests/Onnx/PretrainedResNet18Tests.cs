using VulkanCnn.Imaging;
using VulkanCnn.Tests.Imaging;
using VulkanCnn.Tests.Infrastructure;

namespace VulkanCnn.Tests.Onnx;

/// <summary>
/// The pretrained ResNet18 (CNTK export, ImageNet weights, classifier removed) runs in ONNX Runtime on
/// real photographs preprocessed by <see cref="ImagePreprocessor"/>. The model expects BGR values in 0..255
/// minus a per-pixel mean image, which ML.NET applies with ResNetPreprocess.onnx to RGB 0..255 input.
/// </summary>
public sealed class PretrainedResNet18Tests
{
    private static readonly ImagePreprocessOptions Rgb255 = new() { Range = PixelRange.ZeroTo255 };

    [Fact]
    public void The_models_declare_the_expected_inputs_and_outputs()
    {
        using var resnet = new OrtRunner(PretrainedModels.ResNet18Onnx);
        var input = Assert.Single(resnet.Inputs);
        Assert.Equal(("Input247", new[] { 1, 3, 224, 224 }, typeof(float)), (input.Name, input.Shape, input.ElementType),
            new TupleComparer());
        var output = Assert.Single(resnet.Outputs);
        Assert.Equal(("Pooling395_Output_0", new[] { 1, 512, 1, 1 }, typeof(float)), (output.Name, output.Shape, output.ElementType),
            new TupleComparer());

        using var prep = new OrtRunner(PretrainedModels.ResNetPreprocessOnnx);
        Assert.Equal("OriginalInput", Assert.Single(prep.Inputs).Name);
        Assert.Equal("PreprocessedInput", Assert.Single(prep.Outputs).Name);
    }

    private sealed class TupleComparer : IEqualityComparer<(string, int[], Type)>
    {
        public bool Equals((string, int[], Type) a, (string, int[], Type) b) => a.Item1 == b.Item1 && a.Item2.SequenceEqual(b.Item2)
            && a.Item3 == b.Item3;
        public int GetHashCode((string, int[], Type) v) => v.Item1.GetHashCode();
    }

    private static float[] Features(OrtRunner prep, OrtRunner resnet, string photo, ImagePreprocessOptions options)
    {
        var image = ImagePreprocessor.Load(photo, options);
        var bgr = prep.RunSingle(new NamedTensor(image.Data, [.. image.Shape]));
        var features = resnet.RunSingle(bgr);
        Assert.Equal([1, 512, 1, 1], features.Shape);
        return features.Data;
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    [Fact]
    public void Photographs_give_features_that_tell_the_scenes_apart()
    {
        using var prep = new OrtRunner(PretrainedModels.ResNetPreprocessOnnx);
        using var resnet = new OrtRunner(PretrainedModels.ResNet18Onnx);
        var features = ImagePreprocessorTests.Photos.ToDictionary(p => p, p =>
            Features(prep, resnet, ImagePreprocessorTests.Photo(p), Rgb255));
        foreach (var (photo, f) in features)
        {
            // Average-pooled ReLU activations: finite, non-negative, and not dead.
            Assert.All(f, v => Assert.True(float.IsFinite(v) && v >= 0, $"{photo}: feature {v}"));
            Assert.True(f.Count(v => v > 0) > 256, $"{photo}: only {f.Count(v => v > 0)} of 512 features active");
        }

        // Another view of the cat (different scale and crop) is closer to the cat than any other photograph is.
        string cat = ImagePreprocessorTests.Photo("chelsea.png");
        float[] otherView = Features(prep, resnet, cat, Rgb255 with { ResizeShorterSide = 290, CropWidth = 224, CropHeight = 224 });
        double same = Cosine(features["chelsea.png"], otherView);
        foreach (var (photo, f) in features.Where(kv => kv.Key != "chelsea.png"))
        {
            double other = Cosine(features["chelsea.png"], f);
            Assert.True(same > other + 0.1, $"cat vs another view of it: {same:F3}; cat vs {photo}: {other:F3}");
        }
    }

    [Fact]
    public void BGR_mean_subtraction_by_the_preprocessor_matches_the_ML_NET_preprocessing_graph()
    {
        // The mean image's per-channel averages (B, G, R); the image itself varies by a few units per pixel.
        var bgr = new ImagePreprocessOptions
        {
            ChannelOrder = ChannelOrder.Bgr,
            Range = PixelRange.ZeroTo255,
            Mean = [103.0626f, 115.9029f, 123.1516f]
        };
        using var prep = new OrtRunner(PretrainedModels.ResNetPreprocessOnnx);
        using var resnet = new OrtRunner(PretrainedModels.ResNet18Onnx);
        string photo = ImagePreprocessorTests.Photo("rocket.jpg");
        float[] viaGraph = Features(prep, resnet, photo, Rgb255);
        var direct = ImagePreprocessor.Load(photo, bgr);
        float[] viaPreprocessor = resnet.RunSingle(new NamedTensor(direct.Data, [.. direct.Shape])).Data;
        double similarity = Cosine(viaGraph, viaPreprocessor);
        Assert.True(similarity > 0.99, $"cosine similarity {similarity:F4}");
    }
}
