using VulkanCnn.Nn;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Tests.Onnx;
using VulkanCnn.Training;

namespace VulkanCnn.Tests.Training;

/// <summary>
/// The trainer end to end on 1-D and 3-D networks from the nn builder (the kernels' gradients are checked against references in
/// ConvNdTests and PoolNdTests): on a task a linear probe of the input's mean solves (the class is its sign), SGD drives the
/// loss down and classifies the batch.
/// </summary>
public sealed class NdTrainingTests(GpuFixture gpu) : GpuTest(gpu)
{
    [Theory]
    [InlineData("audio-1d")]
    [InlineData("video-3d")]
    public void An_nd_network_learns_a_separable_task(string name)
    {
        Init.ManualSeed(5);
        var (model, shape) = name == "audio-1d"
            ? (OnnxExportTests.AudioNet(), new TensorShape(16, 1, 64)) : (OnnxExportTests.VideoNet(), new TensorShape(16, 2, 4, 8, 8));
        int perImage = (int)(shape.ElementCount / shape[0]);
        var noise = Reference.Random((int)shape.ElementCount, 6);
        var labels = Enumerable.Range(0, shape[0]).Select(i => (float)(i % 2)).ToArray();
        // Class 1 shifts the whole input up, class 0 down.
        var images = noise.Select((v, i) => v + (labels[i / perImage] == 1 ? 0.6f : -0.6f)).ToArray();
        using var trainer = new Trainer(Device, model, shape, p => new Sgd(Device, p, 0.05, momentum: 0.9));
        var first = trainer.Step(images, labels, 0.05);
        StepResult last = first;
        for (int step = 0; step < 40; step++) last = trainer.Step(images, labels, 0.05);
        Assert.True(float.IsFinite(last.Loss) && last.Loss < first.Loss * 0.5f, $"{name}: loss {first.Loss} -> {last.Loss}");
        Assert.Equal(shape[0], last.Correct);
    }
}
