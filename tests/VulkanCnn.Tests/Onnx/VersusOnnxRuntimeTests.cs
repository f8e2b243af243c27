using VulkanCnn.Compiler;
using VulkanCnn.Imaging;
using VulkanCnn.Ir;
using VulkanCnn.Onnx;
using VulkanCnn.Tests.Imaging;
using VulkanCnn.Tests.Infrastructure;

namespace VulkanCnn.Tests.Onnx;

/// <summary>Real models imported and run on the GPU, compared with ONNX Runtime fed the identical tensor.</summary>
public sealed class VersusOnnxRuntimeTests(GpuFixture gpu) : GpuTest(gpu)
{
    [Fact]
    public void Pretrained_ResNet18_matches_ONNX_Runtime_on_real_photographs()
    {
        var graph = OnnxImporter.Load(PretrainedModels.ResNet18Onnx);
        using var session = Device.Compile(graph);
        using var ort = new OrtRunner(PretrainedModels.ResNet18Onnx);
        foreach (var photo in new[] { "chelsea.png", "rocket.jpg", "astronaut_256.png" })
        {
            var image = ImagePreprocessor.Load(ImagePreprocessorTests.Photo(photo), PretrainedModels.CntkInput);
            var ours = session.Run(image.Data);
            var theirs = ort.RunSingle(new NamedTensor(image.Data, [.. image.Shape]));
            double scale = theirs.Data.Max(Math.Abs);
            double worst = ours.Zip(theirs.Data, (a, b) => Math.Abs((double)a - b)).Max();
            Assert.True(worst <= 1e-4 * scale, $"{photo}: max |ours − ORT| = {worst:E3} > 1e-4 · {scale:G4}");
        }
    }

    [Theory]
    [MemberData(nameof(OnnxFixtures.Names), MemberType = typeof(OnnxFixtures))]
    public void PyTorch_exported_models_match_ONNX_Runtime(string name)
    {
        var fixture = OnnxFixtures.All.Single(f => f.ToString() == name);
        var input = fixture.Input;
        var graph = OnnxImporter.Load(fixture.ModelPath);
        using var session = Device.Compile(graph, new TensorShape(input.Shape));
        var ours = session.Run(input.Data);
        using var ort = new OrtRunner(fixture.ModelPath);
        var theirs = ort.RunSingle(input);
        Tolerance.AssertClose(theirs.Data, ours, Tolerance.Network, name);
        Tolerance.AssertClose(fixture.ExpectedOutput.Data, ours, Tolerance.Network, name + " vs PyTorch");
    }
}
