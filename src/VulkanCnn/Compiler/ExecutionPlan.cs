using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Compiler;

/// <summary>One node's place in a plan: the kernels it records, in order.</summary>
internal sealed record PlanStep(Node Node, IReadOnlyList<BoundKernel> Kernels, string? Variant);

/// <summary>
/// A graph compiled for one set of input shapes: buffers planned and allocated, weights
/// uploaded, kernels bound, everything recorded into one command buffer. Built once, replayed
/// per run; host input/output go through mapped memory or persistent staging buffers.
/// </summary>
internal sealed class ExecutionPlan : IDisposable
{
    private readonly OwnedResources _owned = new();
    private readonly Dictionary<string, Tensor> _tensors = new(StringComparer.Ordinal);
    private readonly GpuBuffer?[] _inputStaging, _outputStaging;

    public ExecutionPlan(GpuDevice device, CompiledGraph compiled, IReadOnlyDictionary<string, GpuBuffer>? external = null,
        BarrierPolicy barriers = BarrierPolicy.Hazards, Tuning? tuning = null, VariantTuner? tuner = null, TimeSpan passes = default,
        bool keepValues = false)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var pipelinesBefore = device.Pipelines.ToHashSet();
        external ??= new Dictionary<string, GpuBuffer>();
        Device = device;
        Compiled = compiled;
        Barriers = barriers;
        var graph = compiled.Graph;
        try
        {
            Memory = PlanMemory(compiled, device, keepValues);
            // Inputs and outputs own their buffers (an external buffer can stand in for the root they view);
            // intermediates share the arena.
            var externalRoots = new Dictionary<string, GpuBuffer>(StringComparer.Ordinal);
            foreach (var (name, buffer) in external)
            {
                if (!graph.Inputs.Any(i => i.Name == name) && !graph.Outputs.Contains(name))
                    throw new ArgumentException($"External buffer '{name}' is not a graph input or output of '{graph.Name}'.",
                        nameof(external));
                if (compiled.Shapes[name].IsEmpty) continue; // an empty value reads and writes nothing
                string root = Memory.RootOf[name];
                if (externalRoots.TryGetValue(root, out var other) && other != buffer)
                    throw new ArgumentException($"'{name}' shares its memory with another external value; give both the same buffer.",
                        nameof(external));
                if (buffer.Size < Memory.RootBytes[root] && buffer.Size < (ulong)compiled.Shapes[root].ElementCount * 4)
                    throw new ArgumentException($"External buffer for '{name}' holds {buffer.Size} bytes; {compiled.Shapes[root]} needs " +
                        $"{compiled.Shapes[root].ElementCount * 4}.", nameof(external));
                externalRoots[root] = buffer;
            }
            var rootBuffers = new Dictionary<string, GpuBuffer>(StringComparer.Ordinal);
            // Like the arena, a graph input's or output's buffer may be larger than one binding: every value a kernel binds was
            // checked against the limit at compile time (CompiledGraph.CheckBindings), batch pieces included.
            foreach (var root in Memory.DedicatedRoots)
                rootBuffers[root] = externalRoots.TryGetValue(root, out var ext) ? ext
                    : Own(GpuBuffer.Create(device, Memory.RootBytes[root], MemoryUsage.Tensor, $"{graph.Name}.{root}",
                        checkBindingRange: false));
            var arena = Memory.ArenaBytes > 0 ? Own(GpuBuffer.CreateArena(device, Memory.ArenaBytes, $"{graph.Name}.arena")) : null;
            foreach (var (name, root) in Memory.RootOf)
                _tensors[name] = Own(rootBuffers.TryGetValue(root, out var own)
                    ? Tensor.View(own, compiled.Shapes[name], name, compiled.Storage.Of(name), Memory.OffsetInRoot[name])
                    : Tensor.View(arena!, compiled.Shapes[name], name, compiled.Storage.Of(name), Memory.OffsetOf[name]));
            foreach (var (name, c) in graph.Initializers)
                if (c.Floats is not null && !c.Shape.IsEmpty && !_tensors.ContainsKey(name))
                {
                    var t = Own(UploadWeight(device, compiled, name, c));
                    _tensors[name] = t;
                    WeightBytes += t.SizeInBytes;
                }
            var constantValues = ConstantValues(compiled);
            foreach (var node in compiled.Order)
                if (IsView(node) && constantValues.Contains(node.Inputs[0]) && _tensors.TryGetValue(node.Inputs[0], out var source))
                    _tensors[node.Outputs[0]] = Own(Tensor.View(source, compiled.Shapes[node.Outputs[0]], node.Outputs[0]));
            // An empty input or output has no tensor: the host passes or gets zero values.
            InputShapes = graph.Inputs.Select(i => compiled.Shapes[i.Name]).ToArray();
            OutputShapes = graph.Outputs.Select(o => compiled.Shapes[o]).ToArray();
            Inputs = graph.Inputs.Select((i, k) => InputShapes[k].IsEmpty ? null : _tensors[i.Name]).ToArray();
            Outputs = graph.Outputs.Select((o, k) => OutputShapes[k].IsEmpty ? null : OutputTensor(o)).ToArray();

            var weights = clock.Elapsed;
            var steps = new List<PlanStep>();
            foreach (var node in compiled.Order)
            {
                var kernels = new List<BoundKernel>();
                var inputShapes = node.Inputs.Select(i => i.Length > 0 ? compiled.Shapes.GetValueOrDefault(i) : null).ToList();
                var constants = node.Inputs.Select(compiled.ConstantOf).ToList();
                var inputs = node.Inputs.Select(i => i.Length > 0 && _tensors.TryGetValue(i, out var t) ? t : null).ToList();
                var outputs = node.Outputs.Select(o => o.Length > 0 ? _tensors.GetValueOrDefault(o) : null).ToList();
                BuiltNode built;
                try
                {
                    string? measured = tuner?.Choose(node, inputShapes, constants);
                    built = NodeKernels.BuildForward(device, node, inputShapes, constants, inputs, outputs, _owned, kernels,
                        KernelMode.Inference, tuning, measured, compiled.Storage.Of(node));
                }
                catch (Exception e) when (e is not GraphException
                    && node.Inputs.FirstOrDefault(i => i.Length > 0 && compiled.Shapes[i].IsEmpty) is { } empty)
                {
                    throw new GraphException(node,
                        $"input '{empty}' is empty ({compiled.Shapes[empty]}); {node.OpType} cannot compute a non-empty output from it " +
                            $"({e.Message})");
                }
                _owned.AddRange(kernels);
                steps.Add(new PlanStep(node, kernels, built.Variant));
            }
            Steps = steps;
            var kernelsBuilt = clock.Elapsed;

            _inputStaging = Inputs.Select(t => t is null || t.Buffer.IsHostVisible || t.Buffer.IsExternal ? null
                : Own(GpuBuffer.Create(device, t.SizeInBytes, MemoryUsage.Staging, t.Name + ".staging"))).ToArray();
            _outputStaging = Outputs.Select(t => t is null || t.Buffer.IsHostVisible || t.Buffer.IsExternal ? null
                : Own(GpuBuffer.Create(device, t.SizeInBytes, MemoryUsage.Staging, t.Name + ".staging"))).ToArray();
            Recording = Own(new CommandRecording(device, graph.Name, barriers: barriers));
            Record(Recording, 0, Steps.Count, copyInputs: true, copyOutputs: true);
            Recording.Finish();
            var created = device.Pipelines.Where(p => !pipelinesBefore.Contains(p)).ToList();
            var pipelines = TimeSpan.FromTicks(created.Sum(p => p.CreationTime.Ticks));
            CompileTimes = new CompileTimes(passes, weights, kernelsBuilt - weights, pipelines, created.Count,
                clock.Elapsed - kernelsBuilt);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public GpuDevice Device { get; }
    public CompiledGraph Compiled { get; }
    /// <summary>Where this plan's recordings put barriers (<see cref="SessionOptions.Barriers"/>).</summary>
    public BarrierPolicy Barriers { get; }
    public MemoryPlan Memory { get; } = null!;
    public CompileTimes CompileTimes { get; } = null!;
    public IReadOnlyList<PlanStep> Steps { get; } = [];
    /// <summary>Input tensors in graph order; null for an empty input (no buffer).</summary>
    public Tensor?[] Inputs { get; } = [];
    /// <summary>Output tensors in graph order; null for an empty output (no buffer).</summary>
    public Tensor?[] Outputs { get; } = [];
    public TensorShape[] InputShapes { get; } = [];
    public TensorShape[] OutputShapes { get; } = [];
    public CommandRecording Recording { get; } = null!;
    public ulong WeightBytes { get; }

    /// <summary>Records steps [from, to), with the host-transfer copies where asked.</summary>
    public void Record(CommandRecording rec, int from, int to, bool copyInputs, bool copyOutputs, Action<int>? afterStep = null)
    {
        if (copyInputs)
            for (int i = 0; i < Inputs.Length; i++)
                if (_inputStaging[i] is { } s) rec.CopyBuffer(s, Inputs[i]!.Buffer, Inputs[i]!.SizeInBytes);
        for (int k = from; k < to; k++)
        {
            foreach (var kernel in Steps[k].Kernels) rec.Dispatch(kernel);
            afterStep?.Invoke(k);
        }
        if (copyOutputs)
            for (int i = 0; i < Outputs.Length; i++)
                if (_outputStaging[i] is { } s) rec.CopyBuffer(Outputs[i]!.Buffer, s, Outputs[i]!.SizeInBytes);
    }

    /// <summary>True when input <paramref name="index"/> is filled by a staging copy at the start of a run.</summary>
    public bool InputUsesStaging(int index) => _inputStaging[index] is not null;

    /// <summary>Copies host data into input <paramref name="index"/> (mapped tensor or its staging buffer). Allocation-free.</summary>
    public void WriteInput(int index, ReadOnlySpan<float> data)
    {
        var shape = InputShapes[index];
        if (data.Length != shape.ElementCount)
            throw new ArgumentException($"Input '{Compiled.Graph.Inputs[index].Name}' of shape {shape} takes {shape.ElementCount} " +
                $"values, got {data.Length}.", "input");
        if (Inputs[index] is not { } t) return; // empty: nothing to write
        if (_inputStaging[index] is { } staging) MemoryMarshal.AsBytes(data).CopyTo(staging.MappedBytes);
        else if (t.Buffer.IsExternal) throw new InvalidOperationException($"Input '{t.Name}' lives in an external buffer; the host " +
            $"writes it, not Run().");
        else MemoryMarshal.AsBytes(data).CopyTo(t.Buffer.MappedBytes.Slice((int)t.ByteOffset));
    }

    /// <summary>Copies output <paramref name="index"/> to host memory. Allocation-free.</summary>
    public void ReadOutput(int index, Span<float> destination)
    {
        var shape = OutputShapes[index];
        if (destination.Length != shape.ElementCount)
            throw new ArgumentException($"Output '{Compiled.Graph.Outputs[index]}' of shape {shape} has {shape.ElementCount} values; " +
                $"the destination holds {destination.Length}.", "output");
        if (Outputs[index] is not { } t) return; // empty: nothing to read
        if (_outputStaging[index] is { } staging) staging.MappedBytes[..(int)t.SizeInBytes].CopyTo(MemoryMarshal.AsBytes(destination));
        else if (t.Buffer.IsExternal) throw new InvalidOperationException($"Output '{t.Name}' lives in an external buffer; the host " +
            $"reads it, not Run().");
        else t.Buffer.MappedBytes.Slice((int)t.ByteOffset, (int)t.SizeInBytes).CopyTo(MemoryMarshal.AsBytes(destination));
    }

    /// <summary>Any value after a run, as float (every value survives only in a plan built with keepValues).</summary>
    public float[] ReadValue(string name) => _tensors.TryGetValue(name, out var t) ? t.ToArray()
        : throw new ArgumentException($"'{name}' has no tensor in the plan of '{Compiled.Graph.Name}'.", nameof(name));

    private Tensor OutputTensor(string name)
    {
        if (_tensors.TryGetValue(name, out var t)) return t;
        throw new UnsupportedOperatorException([$"graph output '{name}' is a constant; constant outputs are not supported"]);
    }

    // A zero-copy op over a weight (only when folding is off): the view points into the weight's buffer.
    private static bool IsView(Node node) => NodeKernels.Operator(node).Traits(node).HasFlag(OperatorTraits.View) && node.HasInput(0);

    /// <summary>A weight too large for one binding that <see cref="Passes.SplitOversizedWeights"/> could not split names its readers:
    /// a smaller batch would not help it.</summary>
    private static Tensor UploadWeight(GpuDevice device, CompiledGraph compiled, string name, HostTensor c)
    {
        try { return Tensor.FromData(device, c.Shape, c.Floats!, name, compiled.Storage.Of(name)); }
        catch (TensorTooLargeException e)
        {
            var readers = compiled.Order.Where(n => n.Inputs.Contains(name)).Select(n => $"{n.OpType} '{n.Name}'").ToList();
            throw new TensorTooLargeException(name, e.Bytes, e.Limit, device.Info.Name,
                $"It is a weight of {string.Join(", ", readers)}; weights are split across buffers only for Gemm, MatMul with a " +
                    "2-D weight and Conv with group 1, along their output features.");
        }
    }

    /// <summary>Initializers and zero-copy views of them (only left when folding is off): they point into weight buffers.</summary>
    private static HashSet<string> ConstantValues(CompiledGraph compiled)
    {
        var set = new HashSet<string>(compiled.Graph.Initializers.Keys, StringComparer.Ordinal);
        foreach (var node in compiled.Order)
            if (IsView(node) && set.Contains(node.Inputs[0])) set.Add(node.Outputs[0]);
        return set;
    }

    /// <summary>With <paramref name="keepValues"/>, every value gets its own buffer (nothing is overwritten), for <see
    /// cref="ReadValue"/>.</summary>
    private static MemoryPlan PlanMemory(CompiledGraph compiled, GpuDevice device, bool keepValues)
    {
        var graph = compiled.Graph;
        var constants = ConstantValues(compiled);
        // Empty values (zero elements) get no memory at all.
        var none = compiled.Shapes.Where(p => p.Value.IsEmpty).Select(p => p.Key).Union(constants).ToHashSet(StringComparer.Ordinal);
        var viewOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var viewOffset = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var steps = new List<(IReadOnlyList<string>, IReadOnlyList<string>)>
        {
            ([], graph.Inputs.Select(i => i.Name).Where(i => !none.Contains(i)).ToList()), // step 0: the host writes the inputs
        };
        foreach (var node in compiled.Order)
        {
            if (constants.Contains(node.Outputs[0])) continue;
            var op = NodeKernels.Operator(node);
            if (op is IPlacedView placed)
                foreach (var (part, whole, elements) in placed.Placements(node, compiled.Shapes))
                {
                    viewOf[part] = whole;
                    viewOffset[part] = (ulong)elements * (ulong)compiled.Storage.Of(whole).SizeInBytes();
                }
            else if (op.Traits(node).HasFlag(OperatorTraits.View))
                viewOf[node.Outputs[0]] = node.Inputs[0];
            steps.Add((node.Inputs.Where(i => i.Length > 0 && !none.Contains(i)).ToList(),
                       node.Outputs.Where(o => o.Length > 0 && !none.Contains(o)).ToList()));
        }
        steps.Add((graph.Outputs.Where(o => !none.Contains(o)).ToList(), [])); // last step: the host reads the outputs
        var bytes = compiled.Shapes.Where(p => !none.Contains(p.Key))
            .ToDictionary(p => p.Key, p => (ulong)p.Value.ElementCount * (ulong)compiled.Storage.Of(p.Key).SizeInBytes(),
                StringComparer.Ordinal);
        var pinned = graph.Inputs.Select(i => i.Name).Concat(graph.Outputs).ToHashSet(StringComparer.Ordinal);
        if (keepValues) pinned.UnionWith(bytes.Keys);
        return MemoryPlanner.Plan(steps, viewOf, bytes, pinned, device.Info.Limits.MinStorageBufferOffsetAlignment, viewOffset);
    }

    private T Own<T>(T resource) where T : IDisposable => _owned.Own(resource);

    public void Dispose()
    {
        _owned.Dispose();
    }
}
