using System.Runtime.InteropServices;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Nn;
using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Training;

/// <summary>How a <see cref="Trainer"/> turns a model into a training step.</summary>
public sealed record TrainerOptions
{
    /// <summary>Loss IR op applied to the model output and the labels: SoftmaxCrossEntropyLoss (labels = class indices) or MseLoss
    /// (targets).</summary>
    public string Loss { get; init; } = "SoftmaxCrossEntropyLoss";
    public float LabelSmoothing { get; init; }
    /// <summary>Shape of one sample's target for MseLoss (default: the model output's per-sample shape).</summary>
    public TensorShape? TargetShape { get; init; }
    /// <summary>GPU augmentation of each batch before the forward pass (none by default).</summary>
    public Augmentation Augmentation { get; init; } = new();
    /// <summary>Timestamps around every layer's forward and backward kernels, for <see cref="Trainer.LastStepProfile"/>.</summary>
    public bool Profile { get; init; }
}

/// <summary>The loss and, for classifiers, how many predictions of the batch were right.</summary>
public readonly record struct StepResult(float Loss, int Correct);

/// <summary>
/// Reverse-mode training of an nn model on the GPU: forward (training mode), loss, backward and
/// optimizer step are recorded once into one command buffer and replayed per batch — one
/// submission per step. Every forward value keeps its own buffer (saved for the backward pass).
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly OwnedResources _owned = new();
    private readonly Dictionary<string, Tensor> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tensor> _grads = new(StringComparer.Ordinal);
    private readonly IReadOnlyDictionary<string, Parameter> _state;
    private readonly Tensor _input, _labels, _loss, _logits;
    private readonly GpuBuffer? _inputStaging, _labelStaging, _outStaging;
    private readonly float[] _lossAndLogits;
    private readonly int _classes;
    private readonly GpuBuffer _stepBuffer;
    private const string DropoutStep = "vkcnn.dropout_step";
    private readonly List<TrainingProfile.Segment> _segments = new();
    private readonly TrainingProfile? _profile;

    public Trainer(GpuDevice device, Module model, TensorShape inputShape, Func<IReadOnlyList<TrainableParameter>, Optimizer> optimizer,
        TrainerOptions? options = null)
    {
        Device = device;
        options ??= new TrainerOptions();
        _state = model.StateDict();
        var graph = model.ToGraph(inputShape, "train");
        string logits = graph.Outputs[0];
        int batch = inputShape[0];
        var logitShape = ShapeInference.Infer(graph)[logits];
        TensorShape labelShape = options.Loss == "MseLoss" ? (options.TargetShape is { } t ? new TensorShape([batch, .. t]) : logitShape)
            : new TensorShape(batch);
        graph.Inputs.Add(new ValueInfo("labels", labelShape));
        var lossAttributes = new Attributes().Set("reduction", "mean");
        if (options.LabelSmoothing > 0) lossAttributes.Set("vkcnn.label_smoothing", options.LabelSmoothing);
        graph.Nodes.Add(new Node(options.Loss, "loss", [logits, "labels"], ["loss"], lossAttributes));
        graph.Outputs.Clear();
        graph.Outputs.Add("loss");
        // Dropout draws its mask from (seed, step, index); the step lives in a tiny host-visible buffer
        // the trainer advances, so the recorded command buffer replays with a new mask each step.
        foreach (var d in graph.Nodes.Where(n => n.OpType == "Dropout"))
        {
            while (d.Inputs.Count < 3) d.Inputs.Add("");
            if (d.Inputs.Count == 3) d.Inputs.Add(DropoutStep); else d.Inputs[3] = DropoutStep;
        }
        graph.Inputs.Add(new ValueInfo(DropoutStep, [1]));
        // Relu after a node whose backward can differentiate through it runs inside that node (Conv, Gemm,
        // BatchNormalization …): one kernel and one saved tensor fewer per pair.
        VulkanCnn.Compiler.Passes.FuseActivations.Run(graph, (producer, act) =>
            act.Kind == ActivationKind.Relu && NodeKernels.DifferentiatesFused(producer, act));
        Graph = graph;

        try
        {
            var order = graph.TopologicalOrder();
            var shapes = ShapeInference.Infer(graph);
            // Parameters and buffers are runtime tensors (they change every step); only int64 constants stay constant.
            HostTensor? ConstantOf(string name) => name.Length > 0 && !_state.ContainsKey(name)
                && graph.Initializers.TryGetValue(name, out var c) ? c : null;
            foreach (var (name, c) in graph.Initializers)
                if (_state.TryGetValue(name, out var p)) _values[name] = Own(Tensor.FromData(device, p.Shape, p.Data, name));
            _stepBuffer = Own(GpuBuffer.Create(device, 16, MemoryUsage.Staging, "dropout.step"));
            _values[DropoutStep] = Own(Tensor.View(_stepBuffer, [1], DropoutStep));
            // The host writes the raw batch into _input; with augmentation the model reads an augmented copy.
            _input = Own(Tensor.Create(device, inputShape, "input"));
            _values[graph.Inputs[0].Name] = options.Augmentation.IsIdentity ? _input
                : Own(Tensor.Create(device, inputShape, "input.augmented"));
            BoundKernel? augment = options.Augmentation.IsIdentity ? null
                : Own(options.Augmentation.Bind(_input, _values[graph.Inputs[0].Name], _values[DropoutStep]));
            _labels = _values["labels"] = Own(Tensor.Create(device, labelShape, "labels"));

            var needsGrad = new HashSet<string>(_state.Where(p => p.Value.RequiresGrad).Select(p => p.Key), StringComparer.Ordinal);
            var kernels = new List<BoundKernel>();
            var forward = new List<BuiltNode>();
            foreach (var node in order)
            {
                var inputs = node.Inputs.Select(i => _values.GetValueOrDefault(i)).ToList();
                var outs = NodeKernels.CreateOutputs(device, node, node.Outputs.Select(o => shapes[o]).ToList(), inputs, _owned);
                for (int o = 0; o < outs.Count; o++) _values[node.Outputs[o]] = outs[o]!;
                forward.Add(NodeKernels.BuildForward(device, node, node.Inputs.Select(i => i.Length > 0 ? shapes[i] : null).ToList(),
                    node.Inputs.Select(ConstantOf).ToList(), inputs, outs, _owned, kernels, KernelMode.TrainingForward));
                _segments.Add(new TrainingProfile.Segment(node, false, kernels.Count));
                if (node.Inputs.Any(needsGrad.Contains)) foreach (var o in node.Outputs) needsGrad.Add(o);
            }
            int forwardKernels = kernels.Count;

            foreach (var v in needsGrad) _grads[v] = Own(Tensor.Create(device, shapes[v], v + ".grad"));
            var seed = Own(Tensor.FromData(device, shapes["loss"], [1f], "loss.grad_seed"));
            for (int k = forward.Count - 1; k >= 0; k--)
            {
                var built = forward[k];
                var node = built.Node;
                if (!node.Inputs.Any(needsGrad.Contains)) continue;
                var outGrads = node.Outputs.Select(o => o == "loss" ? seed : _grads.GetValueOrDefault(o)).ToList();
                var inGrads = node.Inputs.Select((i, idx) => needsGrad.Contains(i) && NodeKernels.HasGradient(node, idx) ? _grads[i]
                    : null).ToList();
                NodeKernels.BuildBackward(built, outGrads, inGrads);
                _segments.Add(new TrainingProfile.Segment(node, true, kernels.Count));
            }
            _owned.AddRange(kernels);

            var trainable = _state.Where(p => p.Value.RequiresGrad && _values.ContainsKey(p.Key))
                .Select(p => new TrainableParameter(p.Key, _values[p.Key], _grads[p.Key]) { LearningRateScale = p.Value.LearningRateScale })
                .ToList();
            Optimizer = Own(optimizer(trainable));

            _loss = _values["loss"];
            _logits = _values[logits];
            _lossAndLogits = new float[1 + _logits.ElementCount];
            _classes = options.Loss == "SoftmaxCrossEntropyLoss" && _logits.Shape.Rank == 2 ? _logits.Shape[1] : 0;
            if (!_input.Buffer.IsHostVisible)
            {
                _inputStaging = Own(GpuBuffer.Create(device, _input.SizeInBytes, MemoryUsage.Staging, "input.staging"));
                _labelStaging = Own(GpuBuffer.Create(device, _labels.SizeInBytes, MemoryUsage.Staging, "labels.staging"));
                _outStaging = Own(GpuBuffer.Create(device, 4 + _logits.SizeInBytes, MemoryUsage.Staging, "loss.staging"));
            }
            _profile = options.Profile ? new TrainingProfile(_segments, kernels, shapes) : null;
            Recording = Own(new CommandRecording(device, "training step", _profile?.TimestampCount ?? 1));
            if (_inputStaging is not null)
            {
                Recording.CopyBuffer(_inputStaging, _input.Buffer, _input.SizeInBytes, 0, _input.ByteOffset);
                Recording.CopyBuffer(_labelStaging!, _labels.Buffer, _labels.SizeInBytes, 0, _labels.ByteOffset);
            }
            foreach (var g in _grads.Values) Recording.Fill(g);
            if (augment is not null) Recording.Dispatch(augment);
            _profile?.Begin(Recording);
            for (int k = 0; k < kernels.Count; k++)
            {
                Recording.Dispatch(kernels[k]);
                _profile?.Mark(Recording, k + 1);
            }
            Optimizer.Record(Recording);
            _profile?.End(Recording);
            if (_outStaging is not null)
            {
                Recording.CopyBuffer(_loss.Buffer, _outStaging, 4, _loss.ByteOffset, 0);
                Recording.CopyBuffer(_logits.Buffer, _outStaging, _logits.SizeInBytes, _logits.ByteOffset, 4);
            }
            Recording.Finish();
            ForwardKernelCount = forwardKernels;
            BackwardKernelCount = kernels.Count - forwardKernels;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public GpuDevice Device { get; }
    /// <summary>The training graph: the model, the labels input and the loss.</summary>
    public Ir.Graph Graph { get; }
    public Optimizer Optimizer { get; }
    public int BatchSize => _input.Shape[0];
    public int ForwardKernelCount { get; }
    public int BackwardKernelCount { get; }
    internal CommandRecording Recording { get; }

    /// <summary>Gradient tensors by value name (after a step: the last batch's gradients).</summary>
    public IReadOnlyDictionary<string, Tensor> Gradients => _grads;
    /// <summary>Parameter and buffer tensors by state_dict name.</summary>
    public IReadOnlyDictionary<string, Tensor> Parameters => _state.Keys.Where(_values.ContainsKey).ToDictionary(k => k, k => _values[k]);

    /// <summary>One training step on a full batch: forward, loss, backward, optimizer update, in one submission.</summary>
    public StepResult Step(ReadOnlySpan<float> images, ReadOnlySpan<float> labels, double learningRate)
    {
        if (images.Length != _input.ElementCount) throw new ArgumentException($"The batch holds {images.Length} values; input " +
            $"{_input.Shape} needs {_input.ElementCount}.", nameof(images));
        if (labels.Length != _labels.ElementCount) throw new ArgumentException($"{labels.Length} labels given; {_labels.ElementCount} " +
            $"expected.", nameof(labels));
        if (_classes > 0)
            for (int i = 0; i < labels.Length; i++)
                if (!(labels[i] >= 0 && labels[i] < _classes && labels[i] == MathF.Floor(labels[i])))
                    throw new ArgumentOutOfRangeException(nameof(labels), labels[i],
                        $"Label {labels[i]} of sample {i} is not a class index in 0..{_classes - 1}.");
        MemoryMarshal.AsBytes(images).CopyTo(_inputStaging is { } si ? si.MappedBytes
            : _input.Buffer.MappedBytes.Slice((int)_input.ByteOffset));
        MemoryMarshal.AsBytes(labels).CopyTo(_labelStaging is { } sl ? sl.MappedBytes
            : _labels.Buffer.MappedBytes.Slice((int)_labels.ByteOffset));
        Optimizer.PrepareStep(learningRate);
        MemoryMarshal.Write(_stepBuffer.MappedBytes, (int)Optimizer.Step);
        Recording.Run();
        var result = MemoryMarshal.Cast<float, byte>(_lossAndLogits.AsSpan());
        if (_outStaging is not null) _outStaging.MappedBytes[..result.Length].CopyTo(result);
        else
        {
            _loss.Buffer.MappedBytes.Slice((int)_loss.ByteOffset, 4).CopyTo(result);
            _logits.Buffer.MappedBytes.Slice((int)_logits.ByteOffset, (int)_logits.SizeInBytes).CopyTo(result[4..]);
        }
        return new StepResult(_lossAndLogits[0], CountCorrect(_lossAndLogits.AsSpan(1), labels));
    }

    /// <summary>GPU time of each layer's forward and backward kernels and of the optimizer in the last step
    /// (needs <see cref="TrainerOptions.Profile"/>).</summary>
    public ProfileReport LastStepProfile()
    {
        if (_profile is null) throw new InvalidOperationException("This trainer was built without TrainerOptions.Profile.");
        return _profile.Read(Recording);
    }

    /// <summary>Copies the trained values (and BatchNorm running statistics) back into the module's parameters.</summary>
    public void CopyParametersToModule()
    {
        foreach (var (name, p) in _state)
            if (_values.TryGetValue(name, out var t)) t.Download(p.Data);
    }

    private int CountCorrect(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels)
    {
        if (_logits.Shape.Rank != 2 || labels.Length != _logits.Shape[0]) return 0;
        int classes = _logits.Shape[1], correct = 0;
        for (int n = 0; n < labels.Length; n++)
        {
            var row = logits.Slice(n * classes, classes);
            int best = 0;
            for (int c = 1; c < classes; c++) if (row[c] > row[best]) best = c;
            if (best == (int)labels[n]) correct++;
        }
        return correct;
    }

    private T Own<T>(T resource) where T : IDisposable => _owned.Own(resource);

    public void Dispose()
    {
        _owned.Dispose();
    }
}
