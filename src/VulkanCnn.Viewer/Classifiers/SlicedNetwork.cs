using System.Diagnostics;
using VulkanCnn.Compiler;
using VulkanCnn.Imaging;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;
using IrGraph = VulkanCnn.Ir.Graph;

namespace VulkanCnn.Viewer.Classifiers;

/// <summary>
/// A network fed from the shared frame buffer on the GPU and run in frame-budget slices: <see cref="TryStart"/>
/// submits the preprocessing dispatch (frame → normalised NCHW, straight into the session's input buffer) and the
/// first slice; each <see cref="Step"/> submits the next slice once the previous one is done, never blocking.
/// </summary>
public sealed class SlicedNetwork : IDisposable
{
    private readonly Tensor _input;
    private readonly Session _session;
    private readonly GpuImagePreprocessor _preprocessor;
    private readonly CommandRecording _preprocess;
    private readonly FrameSlicedRun _slices;
    private readonly float[] _output;
    private readonly Stopwatch _clock = new();
    private long _frameIndex = -1;
    private bool _running;

    public SlicedNetwork(GpuDevice gpu, IrGraph graph, FramePixels frame, ImagePreprocessOptions preprocess, double budgetMilliseconds)
    {
        if (graph.Inputs.Count != 1 || graph.Outputs.Count != 1)
            throw new ArgumentException($"Model '{graph.Name}' has {graph.Inputs.Count} inputs and {graph.Outputs.Count} outputs; a " +
                $"live classifier takes one image in and one score vector out.", nameof(graph));
        var declared = graph.Inputs[0].Shape;
        if (declared.Rank != 4 || (declared[1] != 3 && declared[1] > 0))
            throw new ArgumentException($"Model '{graph.Name}' input '{graph.Inputs[0].Name}' is {declared}; a live classifier needs " +
                $"[N, 3, H, W] (RGB or BGR images).", nameof(graph));
        int h = declared[2] > 0 ? declared[2] : preprocess.CropHeight, w = declared[3] > 0 ? declared[3] : preprocess.CropWidth;
        InputShape = new TensorShape(1, 3, h, w);
        _input = Tensor.Create(gpu, InputShape, graph.Inputs[0].Name);
        try
        {
            _session = gpu.Compile(graph, InputShape, new SessionOptions
            {
                ExternalBuffers = new Dictionary<string, GpuBuffer> { [graph.Inputs[0].Name] = _input.Buffer },
            });
            var options = preprocess with
            {
                CropWidth = w,
                CropHeight = h,
                ResizeShorterSide = preprocess.ResizeShorterSide > 0
                ? preprocess.ResizeShorterSide : Math.Min(w, h)
            };
            _preprocessor = new GpuImagePreprocessor(gpu, frame, options, _input);
            _preprocess = new CommandRecording(gpu, $"{graph.Name} preprocess");
            _preprocess.Dispatch(_preprocessor.Kernel);
            _preprocess.Finish();
            _slices = _session.CreateFrameSlices(budgetMilliseconds);
            _output = new float[_session.OutputShape.ElementCount];
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public TensorShape InputShape { get; }
    public int OutputLength => _output.Length;
    public int SliceCount => _slices.SliceCount;
    /// <summary>Profiled GPU time of the whole network (sum of the slices).</summary>
    public double EstimatedMilliseconds => _slices.EstimatedMilliseconds.Sum();
    public bool IsRunning => _running;

    /// <summary>Starts a run on the frame now in the frame buffer, unless one is in progress. Returns whether it started.</summary>
    public bool TryStart(long frameIndex)
    {
        if (_running) return false;
        _preprocess.Submit();
        _slices.BeginWithDeviceInput();
        _frameIndex = frameIndex;
        _running = true;
        _clock.Restart();
        return true;
    }

    /// <summary>Submits the next slice if the previous one finished. Returns the output (valid until the next run)
    /// once the last slice has finished, else null.</summary>
    public (float[] Output, long FrameIndex, double LatencyMs)? Step()
    {
        if (!_running || !_slices.Step()) return null;
        _slices.ReadOutput(_output);
        _running = false;
        return (_output, _frameIndex, _clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>Runs to completion (for tests and offline use), blocking.</summary>
    public (float[] Output, long FrameIndex, double LatencyMs) RunToCompletion(long frameIndex)
    {
        if (!TryStart(frameIndex)) throw new InvalidOperationException("A run is already in progress.");
        while (true)
        {
            if (Step() is { } result) return result;
            Thread.Sleep(1);
        }
    }

    public void Dispose()
    {
        if (_running) try { _session?.Device.WaitIdle(); } catch (ObjectDisposedException) { }
        _slices?.Dispose();
        _preprocess?.Dispose();
        _preprocessor?.Dispose();
        _session?.Dispose();
        _input.Dispose();
    }
}
