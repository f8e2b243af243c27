using VulkanCnn.Vulkan;

namespace VulkanCnn.Graph;

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
    private int _next = -1;

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
                var rec = new CommandRecording(session.Device, $"{_plan.Compiled.Graph.Name} slice {i + 1}/{ranges.Count}");
                _slices[i] = rec;
                _plan.Record(rec, ranges[i].From, ranges[i].To, copyInputs: i == 0, copyOutputs: i == ranges.Count - 1);
                rec.Finish();
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
    public bool IsComplete => _next == _slices.Length - 1 && _slices[_next].IsComplete;

    /// <summary>Uploads the input and submits the first slice. The previous run must be complete.</summary>
    public void Begin(ReadOnlySpan<float> input)
    {
        if (_next >= 0 && !IsComplete) throw new InvalidOperationException("The previous sliced run is still in progress.");
        _plan.WriteInput(0, input);
        _next = 0;
        _slices[0].Submit();
    }

    /// <summary>
    /// Submits the first slice without uploading: the input already holds this run's data, written on the GPU by
    /// an earlier submission on the same device (e.g. a preprocessing dispatch into a session's external input buffer).
    /// </summary>
    public void BeginWithDeviceInput()
    {
        if (_next >= 0 && !IsComplete) throw new InvalidOperationException("The previous sliced run is still in progress.");
        for (int i = 0; i < _plan.Inputs.Length; i++)
            if (_plan.InputUsesStaging(i))
                throw new InvalidOperationException($"Input '{_plan.Compiled.Graph.Inputs[i].Name}' is filled from a staging buffer on this device; give the session its own buffer for it (SessionOptions.ExternalBuffers).");
        _next = 0;
        _slices[0].Submit();
    }

    /// <summary>Submits the next slice if the previous one has finished. Never blocks. Returns true once the last slice has finished.</summary>
    public bool Step()
    {
        if (_next < 0) throw new InvalidOperationException("Call Begin(input) first.");
        if (!_slices[_next].IsComplete) return false;
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
    }
}
