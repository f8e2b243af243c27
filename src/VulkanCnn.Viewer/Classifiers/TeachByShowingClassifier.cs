using System.Diagnostics;
using VulkanCnn.Compiler;
using VulkanCnn.Imaging;
using VulkanCnn.Ir;
using VulkanCnn.Nn;
using VulkanCnn.Onnx;
using VulkanCnn.Training;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Viewer.Classifiers;

/// <summary>
/// Teach by showing: the pretrained ResNet18 computes 512 features of the live frame (GPU preprocessing,
/// frame-budget slices); keys 1–9 capture the frame on screen as a sample of that class; a linear head
/// trains on the GPU (Adam) on a background thread after every capture and replaces the old one when done.
/// S saves the head, L loads one (safetensors with the class names).
/// </summary>
public sealed class TeachByShowingClassifier : ILiveClassifier
{
    private readonly GpuDevice _gpu;
    private readonly SlicedNetwork _backbone;
    private readonly string[] _classNames;
    private readonly string _headPath;
    private readonly object _gate = new();
    private readonly List<(float[] Features, int Class)> _samples = new();
    private readonly Queue<(int Class, long FromFrame)> _pending = new();
    private long _lastFrame = -1;
    private Task? _training;
    private bool _retrain;
    private Session? _head;
    private string[] _headLabels = [];
    private string? _message;
    private int _generation; // bumped by Load: a training started before it must not replace the loaded head
    private int _noticedVersion;

    public TeachByShowingClassifier(GpuDevice gpu, FramePixels frame, double budgetMilliseconds, IReadOnlyList<string>? classNames = null,
        string headPath = "head.safetensors", string? backbonePath = null)
    {
        _gpu = gpu;
        _classNames = Enumerable.Range(1, 9).Select(k => classNames is not null && k <= classNames.Count ? classNames[k - 1]
            : $"class {k}").ToArray();
        _headPath = headPath;
        _backbone = new SlicedNetwork(gpu, OnnxImporter.Load(backbonePath ?? Backbone.Locate()), frame, Backbone.InputOptions,
            budgetMilliseconds);
        Title = $"Teach by showing: ResNet18 features ({_backbone.SliceCount} slices, ~{_backbone.EstimatedMilliseconds:0} ms GPU) + " +
            $"linear head";
    }

    public string Title { get; }
    public IReadOnlyList<string> Hints { get; } = ["1-9: capture the frame as class k", "S: save head  L: load head  Esc: quit"];
    public Prediction? Latest { get; private set; }
    public int Completed { get; private set; }
    /// <summary>Captured samples per class key (1-based).</summary>
    public IReadOnlyDictionary<int,
        int> SampleCounts
    { get { lock (_gate) return _samples.GroupBy(s => s.Class).ToDictionary(g => g.Key + 1, g => g.Count()); } }
    public TimeSpan LastTrainingTime { get; private set; }
    /// <summary>Where the current head came from (trained from which samples, in how long; or loaded from which file).</summary>
    public string HeadOrigin { get; private set; } = "no head";
    public int HeadVersion { get; private set; }
    /// <summary>The newest features (512 values) and the frame they came from.</summary>
    public (float[] Features, long FrameIndex)? LatestFeatures { get; private set; }

    public IReadOnlyList<string> Status
    {
        get
        {
            var counts = SampleCounts;
            var lines = new List<string>
            {
                counts.Count == 0 ? "no samples yet"
                    : "samples " + string.Join("  ", counts.OrderBy(c => c.Key).Select(c => $"{c.Key}:{c.Value}")),
            };
            if (_training is { IsCompleted: false }) lines.Add("training head on the GPU...");
            else if (HeadVersion > 0) lines.Add($"head v{HeadVersion} trained in {LastTrainingTime.TotalMilliseconds:0} ms");
            if (_message is not null) lines.Add(_message);
            return lines;
        }
    }

    public void Tick(long? newFrameIndex)
    {
        if (newFrameIndex is { } f) _lastFrame = f;
        if (_backbone.Step() is { } r) OnFeatures(r.Output, r.FrameIndex, r.LatencyMs);
        if (newFrameIndex is not null && !_backbone.IsRunning) _backbone.TryStart(_lastFrame);
        if (_training is { IsCompleted: true } done)
        {
            if (done.Exception is { } e) _message = "head training failed: " + e.InnerException?.Message;
            _training = null;
            if (_retrain) StartTraining();
        }
    }

    public string? TakeNotice()
    {
        if (HeadVersion == _noticedVersion) return null;
        _noticedVersion = HeadVersion;
        return $"head v{HeadVersion}: {HeadOrigin}";
    }

    public string? OnKey(int key)
    {
        if (key is >= Glfw.GlfwNative.Key1 and <= Glfw.GlfwNative.Key9) return Capture(key - Glfw.GlfwNative.Key0 - 1);
        if (key == Glfw.GlfwNative.KeyS) return _message = Save();
        if (key == Glfw.GlfwNative.KeyL) return _message = Load(_headPath);
        return null;
    }

    /// <summary>Captures the frame on screen as class <paramref name="classIndex"/> (0-based): at once when the backbone
    /// has already finished that frame, else the first result for it or a newer frame.</summary>
    public string Capture(int classIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(classIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(classIndex, 8);
        if (LatestFeatures is { } latest && latest.FrameIndex == _lastFrame && _lastFrame >= 0)
            AddSample(latest.Features, classIndex);
        else
            _pending.Enqueue((classIndex, Math.Max(_lastFrame, 0)));
        return _message = $"capturing '{_classNames[classIndex]}'";
    }

    /// <summary>Adds a sample directly (offline use and tests) and schedules training.</summary>
    public void AddSample(float[] features, int classIndex)
    {
        if (features.Length != Backbone.Features) throw new ArgumentException($"Features have {Backbone.Features} values, got " +
            $"{features.Length}.", nameof(features));
        lock (_gate) _samples.Add((features.ToArray(), classIndex));
        StartTraining();
    }

    /// <summary>Blocks until the background training (if any) is done; for tests and shutdown.</summary>
    public void WaitForTraining()
    {
        while (_training is { } t)
        {
            try { t.Wait(); } catch (AggregateException) { }
            Tick(null);
        }
    }

    public string Save()
    {
        Sequential? head;
        string[] labels;
        lock (_gate) (head, labels) = (_trainedHead, _headLabels);
        if (head is null) return "nothing to save yet: capture samples of two classes first";
        try
        {
            LinearHead.Save(head, _headPath, labels, Backbone.Description);
            return $"saved head to {_headPath}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"could not save {_headPath}: {e.Message}";
        }
    }

    public string Load(string path)
    {
        try
        {
            var (head, labels) = LinearHead.Load(path, Backbone.Features);
            int generation = Interlocked.Increment(ref _generation);
            SwapHead(head, labels, generation, $"loaded from {path} ({labels.Length} classes)");
            return $"loaded {labels.Length}-class head from {path}";
        }
        catch (Exception e) when (e is IOException or SafetensorsException or UnauthorizedAccessException
            or System.Text.Json.JsonException or ArgumentException)
        {
            return $"could not load {path}: {e.Message}";
        }
    }

    private Sequential? _trainedHead;

    private void OnFeatures(float[] features, long frameIndex, double latencyMs)
    {
        Completed++;
        LatestFeatures = (features.ToArray(), frameIndex);
        while (_pending.TryPeek(out var p) && frameIndex >= p.FromFrame)
        {
            _pending.Dequeue();
            AddSample(features, p.Class);
        }
        lock (_gate)
            Latest = _head is null ? new Prediction([new ClassScore("(no head yet)", 0)], frameIndex, latencyMs)
                : Prediction.FromScores(_head.Run(features), _headLabels, Math.Min(3, _headLabels.Length), frameIndex, latencyMs);
    }

    private void StartTraining()
    {
        if (_training is not null) { _retrain = true; return; }
        _retrain = false;
        (float[] Features, int Class)[] samples;
        lock (_gate) samples = _samples.ToArray();
        var classes = samples.Select(s => s.Class).Distinct().Order().ToArray();
        if (classes.Length < 2) return;
        int generation = _generation;
        _training = Task.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            var head = LinearHead.Create(Backbone.Features, classes.Length);
            LinearHead.Train(_gpu, head, samples.Select(s => s.Features).ToArray(),
                samples.Select(s => Array.IndexOf(classes, s.Class)).ToArray());
            var elapsed = clock.Elapsed;
            string counts = string.Join(", ", classes.Select(c => $"{samples.Count(s => s.Class == c)} x {_classNames[c]}"));
            if (SwapHead(head, classes.Select(c => _classNames[c]).ToArray(), generation,
                $"trained on the GPU in {elapsed.TotalMilliseconds:0} ms from {counts}"))
                LastTrainingTime = elapsed;
        });
    }

    /// <summary>Makes <paramref name="head"/> the current one unless a head was loaded since <paramref name="generation"/>.</summary>
    private bool SwapHead(Sequential head, string[] labels, int generation, string origin)
    {
        var session = _gpu.Compile(head, [1, Backbone.Features]);
        lock (_gate)
        {
            if (generation != _generation)
            {
                session.Dispose();
                return false;
            }
            var old = _head;
            _head = session;
            _headLabels = labels;
            _trainedHead = head;
            HeadOrigin = origin;
            HeadVersion++;
            old?.Dispose();
            return true;
        }
    }

    public void Dispose()
    {
        try { _training?.Wait(); } catch (AggregateException) { }
        _backbone.Dispose();
        _head?.Dispose();
    }
}
