using VulkanCnn.Compiler;
using VulkanCnn.Imaging;
using VulkanCnn.Onnx;
using VulkanCnn.Tests.Imaging;
using VulkanCnn.Tests.Infrastructure;

namespace VulkanCnn.Tests.Precision;

/// <summary>The accuracy cost of fp16 storage on the pretrained ResNet18 (ImageNet weights) and real photographs, against ONNX
/// Runtime in fp32: the 512 features within <see cref="Tolerance.Fp16Network"/> of their largest, and the photos still told apart
/// the same way (each photo's nearest other photo by cosine is the same in fp16 as in ORT).</summary>
public sealed class Fp16PretrainedTests(GpuFixture gpu) : GpuTest(gpu)
{
    [Fact]
    public void Pretrained_ResNet18_in_fp16_matches_ONNX_Runtime_on_real_photographs()
    {
        using var session = Device.Compile(OnnxImporter.Load(PretrainedModels.ResNet18Onnx),
            options: new SessionOptions { Precision = VulkanCnn.Compiler.Precision.Fp16 });
        Assert.Empty(session.StorageFallbacks);
        using var ort = new OrtRunner(PretrainedModels.ResNet18Onnx);
        var ours = new Dictionary<string, float[]>();
        var theirs = new Dictionary<string, float[]>();
        foreach (var photo in ImagePreprocessorTests.Photos)
        {
            var image = ImagePreprocessor.Load(ImagePreprocessorTests.Photo(photo), PretrainedModels.CntkInput);
            ours[photo] = session.Run(image.Data);
            theirs[photo] = ort.RunSingle(new NamedTensor(image.Data, [.. image.Shape])).Data;
            Tolerance.AssertClose(theirs[photo], ours[photo], Tolerance.Fp16Network, $"{photo} features, fp16");
        }
        foreach (var photo in ImagePreprocessorTests.Photos)
            Assert.Equal(Nearest(theirs, photo), Nearest(ours, photo));
    }

    private static string Nearest(Dictionary<string, float[]> features, string photo) =>
        features.Keys.Where(p => p != photo).MaxBy(p => Cosine(features[p], features[photo]))!;

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }
}
