using System.Diagnostics;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Nn;
using VulkanCnn.Training;
using VulkanCnn.Training.Data;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Viewer.Classifiers;

/// <summary>
/// A Fashion-MNIST checkpoint written by <c>vkcnn train</c> classifying the slideshow of test images: the slideshow
/// says which test sample each frame shows, so the true label is known and a running accuracy is kept.
/// The network is small (a few ms), so it runs whole on each new image.
/// </summary>
public sealed class FashionMnistClassifier : ILiveClassifier
{
    private readonly Session _session;
    private readonly FashionMnist _test;
    private readonly Func<long, int> _sampleOf;
    private readonly float[] _input = new float[784];
    private int _correct;

    public FashionMnistClassifier(GpuDevice gpu, string checkpointPath, FashionMnist test, Func<long, int> sampleOfFrame)
    {
        _sampleOf = sampleOfFrame;
        var (model, info) = Checkpoint.LoadModel(checkpointPath);
        _session = gpu.Compile(Modules.ToGraph(model, new TensorShape(info.InputShape), info.Model));
        _test = test;
        Labels = info.Labels;
        Title = $"Fashion-MNIST {info.Model}, epoch {info.Epoch}";
    }

    public IReadOnlyList<string> Labels { get; }
    public string Title { get; }
    public IReadOnlyList<string> Hints { get; } = ["Esc: quit"];
    public IReadOnlyList<string> Status => Completed == 0 ? [] :
        [$"truth: {FashionMnist.Labels[TruthOfLatest]}  {(LatestCorrect ? "correct" : "WRONG")}",
            $"running accuracy {Accuracy:P1} ({_correct}/{Completed})"];
    public Prediction? Latest { get; private set; }
    public int Completed { get; private set; }
    public double Accuracy => Completed == 0 ? 0 : (double)_correct / Completed;
    public int TruthOfLatest { get; private set; }
    public bool LatestCorrect { get; private set; }

    public void Tick(long? newFrameIndex)
    {
        if (newFrameIndex is not { } index) return;
        var clock = Stopwatch.StartNew();
        int label = _test.Read(_sampleOf(index), _input);
        var scores = _session.Run(_input);
        Latest = Prediction.FromScores(scores, Labels, 3, index, clock.Elapsed.TotalMilliseconds);
        TruthOfLatest = label;
        LatestCorrect = Latest.Top[0].Label == FashionMnist.Labels[label];
        if (LatestCorrect) _correct++;
        Completed++;
    }

    public void Dispose() => _session.Dispose();
}
