using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>Add, Sub, Mul, Div and Pow with NumPy multidirectional broadcasting (shader <c>binary</c>); Add, Sub and Mul take a
/// fused activation (ResNet's residual Add + Relu).</summary>
internal sealed class Binary() : BroadcastOp(["Add", "Sub", "Mul", "Div", "Pow"]);

/// <summary>
/// The pointwise ops the <c>binary</c> shader family computes, with NumPy multidirectional broadcasting: <see cref="Binary"/>,
/// <see cref="Variadic"/> (1..N inputs, chained pairwise in place on the output) and <see cref="PRelu"/> (slope
/// unidirectionally broadcast to X).
/// Backward (shaders <c>binary_backward*</c>): each input's gradient is reduced over the axes it
/// was broadcast along by one invocation per gradient element (per chunk, then a second pass for
/// long reductions), in a fixed order. Max/Min ties share the gradient evenly (torch.maximum).
/// </summary>
internal abstract class BroadcastOp(IReadOnlyList<string> opTypes) : IOperator, IDifferentiable
{
    /// <summary>binary.comp's OP constant (spec id 4).</summary>
    internal enum Kind : uint { Add = 0, Sub = 1, Mul = 2, Div = 3, Max = 4, Min = 5, Pow = 6, PRelu = 7, First = 8, DivTruncate = 9 }

    private static readonly Dictionary<string, Kind> Kinds = new()
    {
        ["Add"] = Kind.Add,
        ["Sub"] = Kind.Sub,
        ["Mul"] = Kind.Mul,
        ["Div"] = Kind.Div,
        ["Pow"] = Kind.Pow,
        ["PRelu"] = Kind.PRelu,
        ["Max"] = Kind.Max,
        ["Min"] = Kind.Min,
        ["Sum"] = Kind.Add,
        ["Mean"] = Kind.Add,
    };

    private static readonly HashSet<string> VariadicOps = ["Max", "Min", "Sum", "Mean"];

    /// <summary>Push-constant bytes: uvec4 axes[6], count, elements, alpha, beta, scale.</summary>
    private const int PushBytes = Elementwise.MaxRank * 16 + 20;

    public IReadOnlyList<string> OpTypes { get; } = opTypes;

    public OperatorTraits Traits(Node node) =>
        (node.OpType is "Add" or "Sub" or "Mul" ? OperatorTraits.AcceptsFusedActivation : OperatorTraits.None) | OperatorTraits.Fp16Storage;


    public IReadOnlyList<int>? PerSampleInputs(Node node) => [0, 1];

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var inputs = Inputs(c);
        var output = Elementwise.BroadcastInputs(c, inputs);
        if (c.Node.OpType == "PRelu" && output != c.InputShape(0))
            throw c.Error($"slope {c.InputShape(1)} does not broadcast to X {c.InputShape(0)}");
        foreach (var (a, b) in Steps(c, inputs, output))
            Elementwise.PlanOrThrow(c, output, [a, b], allowVec4: true);
        _ = c.Activation;
        return [output];
    }

    public void Build(OpBuildContext c)
    {
        var inputs = Inputs(c);
        var kind = Kinds[c.Node.OpType];
        // Integer division of int64 constants (shape arithmetic) truncates.
        if (kind == Kind.Div && inputs.All(i => c.Constant(i) is { IsInteger: true })) kind = Kind.DivTruncate;
        if (inputs.Count == 1) kind = Kind.First;
        var activation = c.Activation;
        var output = c.Output(0);
        var tensors = inputs.Select(i => Elementwise.FloatInput(c, i)).ToList();
        uint local = c.Device.DefaultWorkgroupSize;

        var steps = Steps(c, inputs, output.Shape);
        for (int s = 0; s < steps.Count; s++)
        {
            bool last = s == steps.Count - 1;
            var layout = Elementwise.PlanOrThrow(c, output.Shape, [steps[s].A, steps[s].B], allowVec4: true);
            var pipeline = c.Pipeline(new PipelineKey("binary", 3, PushBytes, local)
            {
                Activation = last ? (uint)activation.Kind : 0,
                Constants = [(uint)kind, (uint)layout.Rank, layout.Vec4 ? 1u : 0u],
            });
            float scale = last && c.Node.OpType == "Mean" ? 1f / inputs.Count : 1f;
            var push = layout.Push(Bits(last ? activation.Alpha : 0), Bits(last ? activation.Beta : 0), Bits(scale));
            // Step 0 reads inputs 0 and 1; step s > 0 reads the output (in place) and input s + 1.
            Tensor a = s == 0 ? tensors[0] : output, b = inputs.Count == 1 ? tensors[0] : tensors[s + 1];
            c.Dispatch(pipeline, [a, b, output], c.Grid1D(layout.Invocations, local), MemoryMarshal.AsBytes(push.AsSpan()));
        }
    }

    public bool HasGradient(Node node, int inputIndex) => node.HasInput(inputIndex);

    public void BuildBackward(BackwardContext c)
    {
        if (c.OutputGradient(0) is not { } dy) return;
        var inputs = Inputs(c);
        var wanted = inputs.Where(i => c.InputGradient(i) is not null).ToList();
        if (wanted.Count == 0) return;
        foreach (int i in wanted)
            if (c.Constant(i) is { IsInteger: true }) throw c.Unsupported($"input {i} is an int64 constant and has no gradient");
        var kind = inputs.Count == 1 ? Kind.First : Kinds[c.Node.OpType];
        var activation = c.Activation;
        if (activation.Kind != ActivationKind.None && c.Node.OpType is not ("Add" or "Sub" or "Mul"))
            throw c.Unsupported($"the backward of {c.Node.OpType} with a fused {activation.Kind} is not implemented");

        var operands = new Dictionary<int, Tensor>();
        Tensor Operand(int i) => operands.TryGetValue(i, out var t) ? t : operands[i] =
            c.Constant(i) is { IsInteger: true } k ? c.Weight($"in{i}", k.Shape, k.AsFloats()) : c.Input(i);
        var output = c.Output(0);
        Tensor? ties = kind is Kind.Max or Kind.Min ? Ties(c, inputs, output, Operand) : null;
        bool needsOther = kind is Kind.Mul or Kind.Div or Kind.Pow or Kind.PRelu || activation.Kind != ActivationKind.None;
        float scale = c.Node.OpType == "Mean" ? 1f / inputs.Count : 1f;
        uint local = c.Device.DefaultWorkgroupSize;
        foreach (int i in wanted)
        {
            int side = i == inputs[0] ? 0 : 1;
            Tensor? other = ties ?? (needsOther ? Operand(inputs[1 - side]) : null);
            var x = Operand(i);
            var plan = Elementwise.Reduction.Plan(c, output.Shape, x.Shape, other?.Shape);
            var dx = c.InputGradient(i)!;
            bool partial = plan.Chunks > 1;
            var target = partial ? c.Scratch($"partial{i}", new TensorShape(checked((int)(x.ElementCount * plan.Chunks)))) : dx;
            var pipeline = c.Pipeline(new PipelineKey("binary_backward", 5, Elementwise.Reduction.PushBytes, local)
            {
                Activation = (uint)activation.Kind,
                Constants = [(uint)kind, (uint)side, (uint)plan.Kept.Count, (uint)plan.Reduced.Count, partial ? 1u : 0u],
            });
            var push = plan.Push(x.ElementCount, Bits(activation.Alpha), Bits(activation.Beta), Bits(scale));
            c.Dispatch(pipeline, [dy, x, other ?? dy, output, target], c.Grid1D(x.ElementCount * plan.Chunks, local),
                MemoryMarshal.AsBytes(push.AsSpan()));
            if (!partial) continue;
            var reduce = c.Pipeline(new PipelineKey("binary_backward_reduce", 2, 8, local));
            ReadOnlySpan<uint> words = [checked((uint)x.ElementCount), plan.Chunks];
            c.Dispatch(reduce, [target, dx], c.Grid1D(x.ElementCount, local), MemoryMarshal.AsBytes(words));
        }
    }

    /// <summary>Per output element, how many of the inputs equal it (binary_backward_ties).</summary>
    private static Tensor Ties(BackwardContext c, List<int> inputs, Tensor output, Func<int, Tensor> operand)
    {
        var ties = c.Scratch("ties", output.Shape);
        uint local = c.Device.DefaultWorkgroupSize;
        for (int k = 0; k < inputs.Count; k++)
        {
            var layout = Elementwise.PlanOrThrow(c, output.Shape, [c.InputShape(inputs[k])], allowVec4: false);
            var key = new PipelineKey("binary_backward_ties", 3, Elementwise.MaxRank * 16 + 12, local) { Constants = [(uint)layout.Rank] };
            var pipeline = c.Pipeline(key);
            var push = layout.Push(k == 0 ? 1u : 0u);
            c.Dispatch(pipeline, [operand(inputs[k]), output, ties], c.Grid1D(layout.Invocations, local),
                MemoryMarshal.AsBytes(push.AsSpan()));
        }
        return ties;
    }

    private static List<int> Inputs(OpContext c)
    {
        var present = Enumerable.Range(0, c.InputCount).Where(c.Node.HasInput).ToList();
        if (VariadicOps.Contains(c.Node.OpType))
        {
            if (present.Count == 0 || present.Count != c.InputCount)
                throw c.Error($"needs 1 or more inputs, none omitted; got {c.InputCount} ({present.Count} present)");
        }
        else if (present.Count != 2 || c.InputCount != 2)
            throw c.Error($"needs exactly 2 inputs, got {c.InputCount} ({present.Count} present)");
        return present;
    }

    /// <summary>Input shapes (A, B) of each dispatch: one per pair, the output standing in for A after the first.</summary>
    private static List<(TensorShape A, TensorShape B)> Steps(OpContext c, List<int> inputs, TensorShape output)
    {
        if (inputs.Count == 1) return [(c.InputShape(inputs[0]), c.InputShape(inputs[0]))];
        var steps = new List<(TensorShape, TensorShape)> { (c.InputShape(inputs[0]), c.InputShape(inputs[1])) };
        for (int k = 2; k < inputs.Count; k++) steps.Add((output, c.InputShape(inputs[k])));
        return steps;
    }

    private static uint Bits(float v) => BitConverter.SingleToUInt32Bits(v);
}
