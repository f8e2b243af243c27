using VulkanCnn.Imaging;
using VulkanCnn.Onnx;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Viewer.Classifiers;

/// <summary>Any ONNX image classifier ([1, 3, H, W] in, one score per class out) with a labels file, run in frame-budget slices.</summary>
public sealed class OnnxClassifier : ILiveClassifier
{
    private readonly SlicedNetwork _network;
    private readonly IReadOnlyList<string> _labels;
    private readonly int _topK;

    public OnnxClassifier(GpuDevice gpu, string modelPath, IReadOnlyList<string> labels, FramePixels frame,
        ImagePreprocessOptions preprocess, double budgetMilliseconds, int topK = 5)
    {
        _labels = labels;
        _topK = topK;
        _network = new SlicedNetwork(gpu, OnnxImporter.Load(modelPath), frame, preprocess, budgetMilliseconds);
        if (labels.Count != _network.OutputLength)
        {
            _network.Dispose();
            throw new ArgumentException($"The labels file has {labels.Count} labels; model '{modelPath}' outputs " +
                $"{_network.OutputLength} scores.", nameof(labels));
        }
        Title = $"{Path.GetFileName(modelPath)} ({_network.SliceCount} slices, ~{_network.EstimatedMilliseconds:0} ms GPU)";
    }

    /// <summary>One label per line; blank lines are ignored.</summary>
    public static IReadOnlyList<string> ReadLabels(string path) =>
        File.Exists(path) ? File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToList()
            : throw new FileNotFoundException($"Labels file '{path}' was not found (one class name per line).", path);

    public string Title { get; }
    public IReadOnlyList<string> Hints { get; } = ["Esc: quit"];
    public IReadOnlyList<string> Status => [];
    public Prediction? Latest { get; private set; }
    public int Completed { get; private set; }

    public void Tick(long? newFrameIndex)
    {
        if (_network.Step() is { } r)
        {
            Latest = Prediction.FromScores(r.Output, _labels, _topK, r.FrameIndex, r.LatencyMs);
            Completed++;
        }
        if (newFrameIndex is { } f) _network.TryStart(f);
    }

    public void Dispose() => _network.Dispose();
}
