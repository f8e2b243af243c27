using VulkanCnn.Compiler.Passes;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Compiler;

/// <summary>How a graph is compiled into a session.</summary>
public sealed record SessionOptions
{
    /// <summary>Run the passes (remove identities, fold constants and BatchNorm, fuse activations). On by default. Off, float
    /// arithmetic on constants that the ONNX importer left to the runtime stays unfolded, so an operator that needs such a
    /// value as a constant (Resize scales computed from float constants) refuses the graph, naming the node.</summary>
    public bool Optimize { get; init; } = true;

    /// <summary>Graph inputs/outputs that live in caller-owned buffers (<see cref="Vulkan.GpuBuffer.WrapExternal"/>):
    /// the session reads/writes them on the GPU, with no host copy.</summary>
    public IReadOnlyDictionary<string, GpuBuffer> ExternalBuffers { get; init; } = new Dictionary<string, GpuBuffer>();

    /// <summary>Barriers only between kernels whose buffer ranges conflict (default), so independent branches overlap;
    /// <see cref="BarrierPolicy.EveryCommand"/> serialises every kernel (the baseline of the barrier benchmarks).</summary>
    public BarrierPolicy Barriers { get; init; } = BarrierPolicy.Hazards;

    /// <summary>How kernel variants are chosen: <see cref="Ops.Tuning.Heuristic"/> (default, no timing), <see cref="Ops.Tuning.Measure"/>
    /// (time each applicable variant on the device, keep the fastest that agrees with the reference, remember it) or
    /// <see cref="Ops.Tuning.Fixed"/> (the caller names them).</summary>
    public Tuning Tuning { get; init; } = Tuning.Heuristic;

    /// <summary>How float tensors are stored: <see cref="Compiler.Precision.Fp32"/> (default), <see cref="Compiler.Precision.Fp16"/>
    /// (every node with an fp16 kernel stores its tensors as half and computes in fp32; the others stay fp32, listed in
    /// <see cref="Session.StorageFallbacks"/>; needs the device's 16-bit storage) or <see cref="Compiler.Precision.Auto"/>.
    /// Graph inputs and outputs stay float either way. Inference only: training runs in fp32.</summary>
    public Precision Precision { get; init; } = Precision.Fp32;

    /// <summary>For <see cref="Compiler.Precision.Auto"/>: graph inputs to judge fp16 accuracy on (representative data, in the
    /// default plan's shapes); inputs not given are random in [-1, 1].</summary>
    public IReadOnlyDictionary<string, HostTensor>? CalibrationInputs { get; init; }

    /// <summary>Tests: let <see cref="Compiler.Precision.Auto"/> calibrate on a CPU driver too (it otherwise keeps fp32 there).</summary>
    internal bool CalibrateOnAnyDevice { get; init; }

    /// <summary>Compiled plans a session keeps, one per distinct set of input shapes, the first (default) plan included (each
    /// holds its own buffers and recording). Past it, the least recently used plan not in use is disposed, and compiled again if
    /// its shapes come back. At least 1; default 8.</summary>
    public int MaxCachedPlans { get; init; } = 8;
}

/// <summary>A node a session stores in fp32 although it asked for fp16, and why.</summary>
public sealed record StorageFallback(string Node, string OpType, string Reason);

/// <summary>How a session stores float tensors (<see cref="SessionOptions.Precision"/>).</summary>
public enum Precision
{
    /// <summary>Every tensor in fp32.</summary>
    Fp32,
    /// <summary>fp16 storage for every node that has an fp16 kernel, fp32 arithmetic and accumulation.</summary>
    Fp16,
    /// <summary>fp16 storage where the device gains from it, with fp32 kept for each node whose fp16 output misses the calibration
    /// bound (1e-2 of max|y|, see <see cref="SessionOptions.CalibrationInputs"/>); all fp32 on devices without 16-bit storage and
    /// on CPU drivers, where half storage is slower.</summary>
    Auto,
}

/// <summary>What <see cref="TuningMode.Measure"/> did for a plan: the tuning file's state and one decision per node with
/// variants.</summary>
public sealed record TuningReport(TuningFileStatus File, string? FilePath, IReadOnlyList<TuningDecision> Decisions)
{
    /// <summary>Decisions that timed the variants now (not read from the file).</summary>
    public int Measured => Decisions.Count(d => !d.FromStore);
}

/// <summary>
/// A graph compiled for the GPU: every dispatch recorded once into one command buffer and
/// replayed per run. One plan per set of input shapes, compiled on first use and cached.
/// Runs are serialised (one recording); <see cref="RunAsync"/> callers queue without blocking
/// threads. <see cref="Run(ReadOnlySpan{float}, Span{float})"/> allocates nothing in steady state.
/// </summary>
public sealed class Session : IDisposable
{
    private readonly Graph _graph;
    private readonly SessionOptions _options;
    private readonly Dictionary<string, ExecutionPlan> _plans = new(StringComparer.Ordinal);
    // Per plan: runs between Plan() and ReleasePlan(), and when it was last asked for (a counter): what eviction looks at.
    private readonly Dictionary<ExecutionPlan, (int Users, long LastUse)> _planUse = new(ReferenceEqualityComparer.Instance);
    private long _planClock;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ExecutionPlan _default;
    private readonly Dictionary<string, TuningReport> _tuning = new(StringComparer.Ordinal);
    private Dictionary<string, string>? _calibrated;
    private bool _disposed;

    internal Session(GpuDevice device, Graph graph, IReadOnlyDictionary<string, TensorShape> inputShapes, SessionOptions options)
    {
        Device = device;
        _graph = graph;
        _options = options;
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxCachedPlans, 1, nameof(SessionOptions.MaxCachedPlans));
        _default = Plan(inputShapes);
        ReleasePlan(_default);
        TuningReport = _tuning.Values.FirstOrDefault();
    }

    /// <summary>With <see cref="TuningMode.Measure"/>: how the default plan's variants were chosen (measured or remembered); else
    /// null.</summary>
    public TuningReport? TuningReport { get; }

    /// <summary>Each node of the default plan with the kernel variant it runs (null: an operator with one way only).</summary>
    public IReadOnlyList<(string Node, string OpType, string? Variant)> Variants =>
        _default.Steps.Select(s => (s.Node.Name, s.Node.OpType, s.Variant)).ToList();

    public GpuDevice Device { get; }

    /// <summary>The graph the default plan runs: after the passes when <see cref="SessionOptions.Optimize"/> is on, else the
    /// input graph as compiled (with input shapes applied and empty values resolved).</summary>
    public Graph Graph => _default.Compiled.Graph;
    public PassReport Passes => _default.Compiled.Passes;

    /// <summary>Where the default plan's compile time went: passes, weights, kernels, pipelines, recording.</summary>
    public CompileTimes CompileTimes => _default.CompileTimes;
    public IReadOnlyList<ValueInfo> Inputs =>
        _default.InputShapes.Select((s, i) => new ValueInfo(_default.Compiled.Graph.Inputs[i].Name, s)).ToList();
    public IReadOnlyList<ValueInfo> Outputs =>
        _default.OutputShapes.Select((s, i) => new ValueInfo(_default.Compiled.Graph.Outputs[i], s)).ToList();
    public TensorShape InputShape => _default.InputShapes[0];
    public TensorShape OutputShape => _default.OutputShapes[0];

    /// <summary>Nodes of the default plan kept in fp32 although <see cref="SessionOptions.Precision"/> asked for fp16, with the
    /// reason (no fp16 kernel, or the accuracy check of <see cref="Precision.Auto"/>); empty for fp32 sessions.</summary>
    public IReadOnlyList<StorageFallback> StorageFallbacks => _default.Compiled.Storage.Fallbacks;

    /// <summary>Nodes of the default plan whose tensors are stored in fp16.</summary>
    public int Fp16Nodes => _default.Compiled.Storage.Fp16Nodes;

    /// <summary>Why the session stores everything in fp32 although <see cref="SessionOptions.Precision"/> is Auto (the device gains
    /// nothing from half storage), else null.</summary>
    public string? Fp32Reason => _options.Precision == Precision.Auto
        ? PrecisionCalibration.DeviceRefusal(Device.Info, _options.CalibrateOnAnyDevice) : null;

    /// <summary>Peak intermediate memory of the default plan next to one-buffer-per-value, and the weights.</summary>
    public SessionMemory Memory => new(_default.Memory.PeakIntermediateBytes, _default.Memory.NaiveIntermediateBytes, _default.WeightBytes);

    /// <summary>Number of compiled plans (one per distinct set of input shapes).</summary>
    public int PlanCount { get { lock (_plans) return _plans.Count; } }

    internal ExecutionPlan DefaultPlan => _default;

    /// <summary>Runs the single-input, single-output graph and returns a new output array.</summary>
    public float[] Run(ReadOnlySpan<float> input)
    {
        var output = new float[_default.OutputShapes[0].ElementCount];
        Run(input, output);
        return output;
    }

    /// <summary>Runs into a caller-provided span: 0 bytes of managed memory allocated in steady state.</summary>
    public void Run(ReadOnlySpan<float> input, Span<float> output)
    {
        RequireSingle();
        Enter();
        try
        {
            _default.WriteInput(0, input);
            _default.Recording.Run();
            _default.ReadOutput(0, output);
        }
        finally { _gate.Release(); }
    }

    /// <summary>Runs with another input shape (e.g. batch 8); the plan for it is compiled once and cached.</summary>
    public float[] Run(TensorShape inputShape, ReadOnlySpan<float> input)
    {
        ThrowIfDisposed();
        RequireSingle();
        var plan = Plan(new Dictionary<string, TensorShape> { [_graph.Inputs[0].Name] = inputShape });
        try
        {
            var output = new float[plan.OutputShapes[0].ElementCount];
            Enter();
            try
            {
                if (!plan.Recording.IsComplete) plan.Recording.Wait();
                plan.WriteInput(0, input);
                plan.Recording.Run();
                plan.ReadOutput(0, output);
            }
            finally { _gate.Release(); }
            return output;
        }
        finally { ReleasePlan(plan); }
    }

    /// <summary>Runs a graph with any number of named inputs and outputs; input shapes pick (or compile) the plan.</summary>
    public IReadOnlyDictionary<string, HostTensor> Run(IReadOnlyDictionary<string, HostTensor> inputs)
    {
        ThrowIfDisposed();
        foreach (var input in _graph.Inputs)
            if (!inputs.ContainsKey(input.Name))
                throw new ArgumentException($"Input '{input.Name}' was not given. Inputs: " +
                    $"{string.Join(", ", _graph.Inputs.Select(n => n.Name))}.", nameof(inputs));
        var plan = Plan(inputs.ToDictionary(p => p.Key, p => p.Value.Shape));
        try
        {
            var result = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
            Enter();
            try
            {
                if (!plan.Recording.IsComplete) plan.Recording.Wait();
                var names = plan.Compiled.Graph.Inputs;
                for (int i = 0; i < names.Count; i++) plan.WriteInput(i, inputs[names[i].Name].Floats ?? inputs[names[i].Name].AsFloats());
                plan.Recording.Run();
                for (int i = 0; i < plan.Outputs.Length; i++)
                {
                    var data = new float[plan.OutputShapes[i].ElementCount];
                    plan.ReadOutput(i, data);
                    result[plan.Compiled.Graph.Outputs[i]] = HostTensor.FromFloats(plan.OutputShapes[i], data);
                }
            }
            finally { _gate.Release(); }
            return result;
        }
        finally { ReleasePlan(plan); }
    }

    /// <summary>
    /// Runs without blocking a thread while the GPU works. Concurrent calls queue; cancelling
    /// abandons the wait (the GPU finishes the run before the next one starts).
    /// </summary>
    public async Task RunAsync(ReadOnlyMemory<float> input, Memory<float> output, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        RequireSingle();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            if (!_default.Recording.IsComplete) await _default.Recording.WaitAsync().ConfigureAwait(false);
            _default.WriteInput(0, input.Span);
            _default.Recording.Submit();
            try
            {
                await _default.Recording.WaitAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await _default.Recording.WaitAsync().ConfigureAwait(false); // the next run must not overwrite buffers in use
                throw;
            }
            _default.ReadOutput(0, output.Span);
        }
        finally { _gate.Release(); }
    }

    /// <summary>
    /// Submits one run and returns at once: for hosts that synchronise with their own binary
    /// semaphores (inputs and outputs in external buffers). The session waits for the previous
    /// run's fence before reusing its buffers; the caller waits on its signal semaphore.
    /// </summary>
    public void Submit(ReadOnlySpan<nint> waitSemaphores, ReadOnlySpan<nint> signalSemaphores)
    {
        Enter();
        try
        {
            if (!_default.Recording.IsComplete) _default.Recording.Wait();
            _default.Recording.Submit(waitSemaphores, signalSemaphores);
        }
        finally { _gate.Release(); }
    }

    private ExecutionPlan Plan(IReadOnlyDictionary<string, TensorShape> inputShapes)
    {
        string key = string.Join(";", inputShapes.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        lock (_plans)
        {
            if (_plans.TryGetValue(key, out var plan)) return Lease(plan);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var compiled = CompiledGraph.Compile(_graph, inputShapes, Device, _options.Optimize, Fp16Rule(inputShapes));
            var passes = clock.Elapsed;
            var store = _options.Tuning.Mode == TuningMode.Measure ? TuningStore.Open(Device) : null;
            var tuner = store is null ? null : new VariantTuner(Device, store);
            plan = new ExecutionPlan(Device, compiled, _options.ExternalBuffers, _options.Barriers, _options.Tuning, tuner, passes);
            store?.Save(); // once per plan, after every layer was measured
            if (tuner is not null) _tuning[key] = new TuningReport(store!.Status, store.Path, tuner.Decisions);
            _plans[key] = plan;
            Lease(plan);
            Evict();
            return plan;
        }
    }

    /// <summary>For <see cref="SessionOptions.Precision"/>: null for all-fp32, else the rule that keeps a node in fp32 (its
    /// reason) or lets it be stored in fp16 (null).</summary>
    private Func<Node, string?>? Fp16Rule(IReadOnlyDictionary<string, TensorShape> inputShapes)
    {
        switch (_options.Precision)
        {
            case Precision.Fp32: return null;
            case Precision.Fp16:
                if (!Device.Info.Features.StorageBuffer16BitAccess)
                    throw new NotSupportedException($"Precision.Fp16: device '{Device.Info.Name}' has no 16-bit storage " +
                        "(storageBuffer16BitAccess); use Precision.Fp32 or Auto.");
                return _ => null;
            case Precision.Auto:
                if (PrecisionCalibration.DeviceRefusal(Device.Info, _options.CalibrateOnAnyDevice) is not null) return null;
                // Judged once, on the first plan's shapes; plans for other shapes reuse the verdicts by node name.
                _calibrated ??= PrecisionCalibration.KeepFp32(Device,
                    CompiledGraph.Compile(_graph, inputShapes, Device, _options.Optimize), _options.CalibrationInputs);
                var reasons = _calibrated;
                return node => reasons.GetValueOrDefault(node.Name);
            default: throw new ArgumentOutOfRangeException(nameof(SessionOptions.Precision), _options.Precision, "Unknown precision.");
        }
    }

    /// <summary>Marks <paramref name="plan"/> in use and just used (under the plans' lock).</summary>
    private ExecutionPlan Lease(ExecutionPlan plan)
    {
        var (users, _) = _planUse.GetValueOrDefault(plan);
        _planUse[plan] = (users + 1, ++_planClock);
        return plan;
    }

    private void ReleasePlan(ExecutionPlan plan)
    {
        lock (_plans)
            if (_planUse.TryGetValue(plan, out var use)) _planUse[plan] = use with { Users = use.Users - 1 };
    }

    /// <summary>Past <see cref="SessionOptions.MaxCachedPlans"/>, disposes the least recently used plans that no run holds (never
    /// the default one); with every other plan in use the cache stays over its bound until they are released.</summary>
    private void Evict()
    {
        while (_plans.Count > _options.MaxCachedPlans)
        {
            var victim = _plans.Where(p => p.Value != _default && _planUse[p.Value].Users == 0)
                .OrderBy(p => _planUse[p.Value].LastUse).Select(p => (KeyValuePair<string, ExecutionPlan>?)p).FirstOrDefault();
            if (victim is not { } v) return;
            _plans.Remove(v.Key);
            _planUse.Remove(v.Value);
            _tuning.Remove(v.Key);
            v.Value.Dispose();
        }
    }

    private void RequireSingle()
    {
        if (_default.Inputs.Length != 1 || _default.Outputs.Length != 1)
            throw new InvalidOperationException($"Graph '{_graph.Name}' has {_default.Inputs.Length} inputs and " +
                $"{_default.Outputs.Length} outputs; use Run(IReadOnlyDictionary<string, HostTensor>).");
    }

    /// <summary>Refuses a disposed session, and a session whose device was disposed (its recordings and buffers went with the device:
    /// touching them would call into a destroyed Vulkan device).</summary>
    private void ThrowIfDisposed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Device.IsDisposed)
            throw new ObjectDisposedException(nameof(GpuDevice), $"Session '{_graph.Name}' cannot run: its GpuDevice " +
                $"'{Device.Info.Name}' has been disposed (dispose sessions before their device).");
    }

    /// <summary>Takes the run gate and waits for a submission made by <see cref="Submit"/> to finish, so no
    /// host write can touch buffers the GPU is still reading. Throws once the session is disposed.</summary>
    internal void Enter()
    {
        ThrowIfDisposed();
        _gate.Wait();
        try
        {
            ThrowIfDisposed();
            if (!_default.Recording.IsComplete) _default.Recording.Wait();
        }
        catch
        {
            _gate.Release();
            throw;
        }
    }

    internal void Exit() => _gate.Release();

    /// <summary>Waits for the run in progress, frees every plan; callers queued behind it get ObjectDisposedException.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _gate.Wait();
        try
        {
            _disposed = true;
            lock (_plans)
            {
                foreach (var p in _plans.Values) p.Dispose();
                _plans.Clear();
            }
        }
        finally { _gate.Release(); }
    }
}

/// <summary>Memory of a compiled plan, in bytes.</summary>
public sealed record SessionMemory(ulong PeakIntermediateBytes, ulong NaiveIntermediateBytes, ulong WeightBytes);

/// <summary><c>device.Compile(graph, inputShape)</c>.</summary>
public static class GraphCompilation
{
    /// <summary>Compiles a graph; <paramref name="inputShape"/> overrides the first input's declared shape (e.g. another batch
    /// size).</summary>
    public static Session Compile(this GpuDevice device, Graph graph, TensorShape? inputShape = null, SessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        if (graph.Inputs.Count == 0) throw new ArgumentException($"Graph '{graph.Name}' has no inputs.", nameof(graph));
        var shapes = new Dictionary<string, TensorShape> { [graph.Inputs[0].Name] = inputShape ?? graph.Inputs[0].Shape };
        for (int i = 1; i < graph.Inputs.Count; i++) shapes[graph.Inputs[i].Name] = graph.Inputs[i].Shape;
        return new Session(device, graph, shapes, options ?? new SessionOptions());
    }
}
