using System.Globalization;
using VulkanCnn.Nn;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Training;
using VulkanCnn.Training.Data;

namespace VulkanCnn.Tests.Training;

/// <summary>
/// The Fashion-MNIST results published in examples/FashionMnist: each committed checkpoint, run on
/// this device over all 10,000 test images, reaches the goal the README claims and the accuracy its
/// training CSV recorded (that run may have used another GPU); its ONNX export beside it gives the
/// same logits in ONNX Runtime.
/// </summary>
public sealed class CommittedResultTests(GpuFixture gpu) : GpuTest(gpu)
{
    private static string Example(string file) => Repo.PathOf("examples", "FashionMnist", file);

    [Theory]
    [InlineData("small-cnn", 0.91)]
    [InlineData("small-resnet-h200", 0.93)]
    public void Committed_checkpoint_reaches_its_published_test_accuracy(string name, double goal)
    {
        string path = Example(name + ".safetensors");
        var (model, info) = Checkpoint.LoadModel(path);
        var test = FashionMnist.Load(train: false);

        var evaluation = Evaluator.Evaluate(Device, model, test);

        Assert.Equal(10_000, evaluation.Count);
        Assert.True(evaluation.Accuracy >= goal, $"{name}: {evaluation.Accuracy:P2} < {goal:P0}");
        // Another device's float arithmetic may tip an image or two that sit on a decision boundary.
        double recorded = LastRecordedTestAccuracy(Example(name + ".metrics.csv"));
        Assert.InRange(evaluation.Accuracy, recorded - 0.0005, recorded + 0.0005);
    }

    [Theory]
    [InlineData("small-cnn")]
    [InlineData("small-resnet-h200")]
    public void Committed_ONNX_export_gives_the_checkpoints_logits_in_ONNX_Runtime(string name)
    {
        string path = Example(name + ".safetensors");
        var (model, info) = Checkpoint.LoadModel(path);
        var test = FashionMnist.Load(train: false, limit: 32);
        int per = (int)test.SampleShape.ElementCount;
        var images = new float[test.Count * per];
        for (int i = 0; i < test.Count; i++) test.Read(i, images.AsSpan(i * per, per));
        int[] dims = [test.Count, .. test.SampleShape.Dimensions.ToArray()];

        using var session = Device.Compile(model, new TensorShape(dims));
        var ours = session.Run(images);
        // The export keeps the checkpoint's input shape (batch 1), so ONNX Runtime takes one image at a time.
        using var ort = new OrtRunner(Example(name + ".onnx"));
        int classes = info.Labels.Count;
        for (int i = 0; i < test.Count; i++)
        {
            var theirs = ort.RunSingle(new NamedTensor(images[(i * per)..((i + 1) * per)], [1, .. dims[1..]]));
            Assert.Equal([1, classes], theirs.Shape);
            Tolerance.AssertClose(theirs.Data, ours.AsSpan(i * classes, classes), Tolerance.Network, $"{name} image {i} vs ONNX Runtime");
        }
    }

    private static double LastRecordedTestAccuracy(string csv)
    {
        var lines = File.ReadAllLines(csv);
        int column = Array.IndexOf(lines[0].Split(','), "test_accuracy");
        Assert.True(column >= 0, csv + " has no test_accuracy column");
        return double.Parse(lines[^1].Split(',')[column], CultureInfo.InvariantCulture);
    }
}
