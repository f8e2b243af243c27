using VulkanCnn.Vulkan;

namespace VulkanCnn.Compiler;

/// <summary>
/// A session's network cut into consecutive slices, each its own command buffer, for hosts with a
/// frame loop: <see cref="Begin"/> with an input, then call <see cref="Step"/> once per frame (it
/// submits the next slice when the previous one is done and returns at once), and read the
/// result when <see cref="IsComplete"/>. Intermediate values stay on the GPU between slices.
/// Not thread-safe; do not run the session itself while a sliced run is in progress.
/// </summary>
public sealed class FrameSlicedRun : IDisposable
{
    private readonly Session _session;
    private readonly ExecutionPlan _plan;
    private readonly CommandRecording[] _slices;
    // Slice 1 without the staging-to-input copies, for inputs already written on the GPU (null when no input uses staging).
    private readonly CommandRecording? _firstWithoutUpload;
    private int _next = -1;
    private bool _deviceInput;

    internal FrameSlicedRun(Session session, IReadOnlyList<(int From, int To, double Ms)> ranges)
    {
        _session = session;
        _plan = session.DefaultPlan;
        _slices = new CommandRecording[ranges.Count];
        EstimatedMilliseconds = ranges.Select(r => r.Ms).ToList();
        LayerRanges = ranges.Select(r => (r.From, r.To)).ToList();
        try
        {
            for (int i = 0; i < ranges.Count; i++)
            {
                var rec = new CommandRecording(session.Device, $"{_plan.Compiled.Graph.Name} slice {i + 1}/{ranges.Count}",
                    barriers: _plan.Barriers);
                _slices[i] = rec;
                _plan.Record(rec, ranges[i].From, ranges[i].To, copyInputs: i == 0, copyOutputs: i == ranges.Count - 1);
                rec.Finish();
            }
            if (Enumerable.Range(0, _plan.Inputs.Length).Any(_plan.InputUsesStaging))
            {
                _firstWithoutUpload = new CommandRecording(session.Device,
                    $"{_plan.Compiled.Graph.Name} slice 1/{ranges.Count} (device input)", barriers: _plan.Barriers);
                _plan.Record(_firstWithoutUpload, ranges[0].From, ranges[0].To, copyInputs: false, copyOutputs: ranges.Count == 1);
                _firstWithoutUpload.Finish();
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int SliceCount => _slices.Length;
    /// <summary>Profiled GPU time of each slice.</summary>
    public IReadOnlyList<double> EstimatedMilliseconds { get; }
    /// <summary>The [from, to) layer index range of each slice.</summary>
    public IReadOnlyList<(int From, int To)> LayerRanges { get; }
    /// <summary>Index of the slice submitted last (-1 before the first).</summary>
    public int CurrentSlice => _next;
    public bool IsComplete => _next == _slices.Length - 1 && Current.IsComplete;

    private CommandRecording Current => _next == 0 && _deviceInput && _firstWithoutUpload is not null ? _firstWithoutUpload
        : _slices[_next];

    /// <summary>Uploads the input and submits the first slice. The previous run must be complete.</summary>
    public void Begin(ReadOnlySpan<float> input)
    {
        if (_next >= 0 && !IsComplete) throw new InvalidOperationException("The previous sliced run is still in progress.");
        _plan.WriteInput(0, input);
        _next = 0;
        _deviceInput = false;
        _slices[0].Submit();
    }

    /// <summary>
    /// Submits the first slice without uploading: the input already holds this run's data, written on the GPU by
    /// an earlier submission on the same device (e.g. a preprocessing dispatch into a session's external input buffer).
    /// </summary>
    public void BeginWithDeviceInput()
    {
        if (_next >= 0 && !IsComplete) throw new InvalidOperationException("The previous sliced run is still in progress.");
        _next = 0;
        _deviceInput = true;
        Current.Submit();
    }

    /// <summary>Submits the next slice if the previous one has finished. Never blocks. Returns true once the last slice has
    /// finished.</summary>
    public bool Step()
    {
        if (_next < 0) throw new InvalidOperationException("Call Begin(input) first.");
        if (!Current.IsComplete) return false;
        if (_next == _slices.Length - 1) return true;
        _slices[++_next].Submit();
        return false;
    }

    /// <summary>Copies the result of a completed run.</summary>
    public void ReadOutput(Span<float> output)
    {
        if (!IsComplete) throw new InvalidOperationException("The sliced run has not completed.");
        _plan.ReadOutput(0, output);
    }

    public void Dispose()
    {
        foreach (var s in _slices) s?.Dispose();
        _firstWithoutUpload?.Dispose();
    }
}
