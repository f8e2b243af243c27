using VulkanCnn.Compiler;
using VulkanCnn.Ir;

namespace VulkanCnn.Onnx;

/// <summary>
/// Opset normalisation: rewrites the forms of older opsets that the IR's operators do not accept
/// into ones they do. Where an operator already accepts both forms (Clip, Pad, Slice, Split,
/// Squeeze/Unsqueeze, Reduce*, Resize/Upsample, TopK) the node passes through unchanged.
/// </summary>
internal sealed partial class ModelConverter
{
    private static readonly HashSet<string> LegacyBroadcastOps =
        ["Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor", "Equal", "Greater", "Less", "PRelu"];

    private IEnumerable<Node> Normalize(Node n)
    {
        var a = n.Attributes;
        a.Remove("consumed_inputs"); // opset < 6: a memory hint with no meaning at inference
        switch (n.OpType)
        {
            case "Softmax" or "LogSoftmax" when _opset < 13:
                return CoerceSoftmax(n);
            case "BatchNormalization":
                a.Remove("is_test"); // opset < 7
                // opset < 9; spatial=0 is refused by the op
                if (a.Has("spatial") && Read(n, () => a.Int("spatial", 1)) == 1) a.Remove("spatial");
                DropUnusedOutputs(n, 1);
                break;
            case "Dropout":
                a.Remove("is_test");
                bool dropping = false;
                if (n.HasInput(2))
                {
                    // Opset 12+: training_mode is an input; a constant true one keeps ratio and itself (the op drops).
                    if (!_consts.TryGetValue(n.Inputs[2], out var training))
                    {
                        _unsupported.Add($"Dropout node '{n.Name}': input 2 (training_mode) must be a constant (initializer) for this " +
                            $"runtime (opset {_opset})");
                        return [];
                    }
                    dropping = training.Length == 1 && training[0] != 0;
                }
                if (!dropping)
                    while (n.Inputs.Count > 1) n.Inputs.RemoveAt(n.Inputs.Count - 1); // ratio, training_mode: nothing at inference
                if (!dropping && !n.Attributes.Has("training_mode") && n.Outputs.Count > 1 && n.Outputs[1].Length > 0
                    && TryShape(n.Inputs[0], out var maskDims)
                    && CpuTensor.Count(maskDims) <= _options.MaxFoldedElements)
                {
                    // At inference nothing is dropped: the mask is all true.
                    _consts[n.Outputs[1]] = CpuTensor.Of(maskDims, Enumerable.Repeat(1L, (int)CpuTensor.Count(maskDims)).ToArray());
                    n.Outputs.RemoveAt(1);
                }
                DropUnusedOutputs(n, 1);
                break;
            case "PRelu" when _opset < 7 && n.Inputs.Count == 2 && TryShape(n.Inputs[0], out var xDims)
                && TryShape(n.Inputs[1], out var slopeDims)
                && xDims.Length > 2 && slopeDims.Length == 1 && slopeDims[0] == xDims[1] && xDims[1] != 1:
                // Opset < 7 applied a [C] slope per channel; NumPy broadcasting needs [C, 1, …].
                return Aligned(n, 1, slopeDims, xDims.Length - 2);
            case "MaxPool":
                DropUnusedOutputs(n, 1);
                break;
            case "Resize" when _options.AlignCornersLength == AlignCornersLength.ScaledLength
                && a.String("coordinate_transformation_mode") == "align_corners":
                a.Set(VulkanCnn.Ops.RuntimeAttributes.ResizeScaledAlignCorners, 1L);
                break;
            case "LayerNormalization":
                DropUnusedOutputs(n, 1); // Mean and InvStdDev only where something reads them
                break;
            case "Reshape" when a.Has("shape") && !n.HasInput(1): // opset < 5: the shape was an attribute
                string shape = Fresh(n.Outputs[0] + "/shape");
                var dims = Read(n, () => a.Ints("shape")!);
                _consts[shape] = CpuTensor.Of([dims.Length], dims);
                a.Remove("shape");
                while (n.Inputs.Count < 2) n.Inputs.Add("");
                n.Inputs[1] = shape;
                break;
            case "Cast" when a["to"] is string to: // opset < 6: the type by name
                a.Set("to", TypeCode(n, to));
                break;
            case "Gemm" when _opset < 7:
                // Opset < 7: C broadcasts only with broadcast=1 (default 0); the op reads it, the IR default being 1.
                a.Set("broadcast", Read(n, () => a.Int("broadcast", 0)));
                break;
            case var op when LegacyBroadcastOps.Contains(op) && (a.Has("broadcast") || a.Has("axis")) && _opset < 7:
                return LegacyBroadcast(n);
            case var op when ReduceNorms.Contains(op):
                return ReduceNorm(n);
        }
        return [n];
    }

    /// <summary>Reductions with no runtime kernel of their own, rewritten to ReduceSum.</summary>
    internal static readonly HashSet<string> ReduceNorms = ["ReduceSumSquare", "ReduceL1", "ReduceL2"];

    /// <summary>
    /// ReduceSumSquare = ReduceSum(x·x), ReduceL1 = ReduceSum(|x|), ReduceL2 = Sqrt(ReduceSum(x·x)); the
    /// axes (attribute, or the input of opset 18), keepdims and noop_with_empty_axes go to the
    /// ReduceSum. With no axes and noop the elementwise part still applies (x², |x|, √(x²)), as
    /// ONNX Runtime computes it.
    /// </summary>
    private IEnumerable<Node> ReduceNorm(Node n)
    {
        string x = n.Inputs[0], y = n.Outputs[0];
        bool l1 = n.OpType == "ReduceL1";
        string mapped = Fresh(y + (l1 ? "/abs" : "/square"));
        var first = l1 ? new Node("Abs", Fresh(n.Name + "/abs"), [x], [mapped])
            : new Node("Mul", Fresh(n.Name + "/square"), [x, x], [mapped]);
        var inputs = n.Inputs.ToList();
        inputs[0] = mapped;
        if (n.OpType != "ReduceL2") return [first, new Node("ReduceSum", n.Name, inputs, [y], n.Attributes)];
        string sum = Fresh(y + "/sum");
        return [first, new Node("ReduceSum", Fresh(n.Name + "/sum"), inputs, [sum], n.Attributes), new Node("Sqrt", n.Name, [sum], [y])];
    }

    /// <summary>
    /// Softmax/LogSoftmax before opset 13 coerce the input to 2-D at <c>axis</c> (default 1) and
    /// normalise each row; the IR's (opset 13) ops normalise one axis. Same result when the axis is
    /// the last; otherwise Flatten(axis) → op on the last axis → Reshape back.
    /// </summary>
    private IEnumerable<Node> CoerceSoftmax(Node n)
    {
        long axis = Read(n, () => n.Attributes.Int("axis", 1));
        if (!n.HasInput(0) || !TryShape(n.Inputs[0], out var dims)) { n.Attributes.Set("axis", axis); return [n]; }
        int rank = dims.Length;
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw Fail($"axis {axis} is out of range for input [{string.Join(", ", dims)}]", node: n.Name);
        if (a == rank - 1)
        {
            n.Attributes.Set("axis", -1L);
            return [n];
        }
        string x = n.Inputs[0], y = n.Outputs[0];
        string flat = Fresh(y + "/flat"), rows = Fresh(y + "/rows"), shape = Fresh(y + "/shape");
        _consts[shape] = CpuTensor.Of([dims.Length], dims);
        var softmax = new Node(n.OpType, n.Name, [flat], [rows], new Attributes().Set("axis", -1L));
        return
        [
            new Node("Flatten", Fresh(n.Name + "/flatten"), [x], [flat], new Attributes().Set("axis", a)),
            softmax,
            new Node("Reshape", Fresh(n.Name + "/reshape"), [rows, shape], [y]),
        ];
    }

    /// <summary>
    /// Opset &lt; 7 binary ops broadcast B only with broadcast=1, aligned at <c>axis</c> of A (not at
    /// the end as NumPy does): B gets trailing 1-dims so NumPy broadcasting gives the same result.
    /// </summary>
    private IEnumerable<Node> LegacyBroadcast(Node n)
    {
        var a = n.Attributes;
        bool hasAxis = a.Has("axis");
        long axis = Read(n, () => a.Int("axis", 0));
        a.Remove("broadcast");
        a.Remove("axis");
        if (!hasAxis || n.Inputs.Count < 2 || !TryShape(n.Inputs[0], out var aDims) || !TryShape(n.Inputs[1], out var bDims)) return [n];
        if (axis < 0) axis += aDims.Length;
        long trailing = aDims.Length - axis - bDims.Length;
        return trailing <= 0 ? [n] : Aligned(n, 1, bDims, trailing);
    }

    /// <summary>Gives input <paramref name="index"/> of shape <paramref name="dims"/> <paramref name="trailing"/> trailing 1-dims (a
    /// reshaped constant, or an Unsqueeze).</summary>
    private IEnumerable<Node> Aligned(Node n, int index, long[] dims, long trailing)
    {
        var bDims = dims;
        var newDims = bDims.Concat(Enumerable.Repeat(1L, (int)trailing)).ToArray();
        string b = n.Inputs[index], reshaped = Fresh(b + "/aligned");
        if (_consts.TryGetValue(b, out var c))
        {
            _consts[reshaped] = c.Ints is { } ints ? CpuTensor.Of(newDims, ints) : CpuTensor.Of(newDims, c.Floats!);
            n.Inputs[index] = reshaped;
            return [n];
        }
        string axes = Fresh(b + "/axes");
        _consts[axes] = CpuTensor.Of([trailing], Enumerable.Range(bDims.Length, (int)trailing).Select(i => (long)i).ToArray());
        n.Inputs[index] = reshaped;
        return [new Node("Unsqueeze", Fresh(n.Name + "/align"), [b, axes], [reshaped]), n];
    }

    /// <summary>Optional outputs from <paramref name="first"/> on that nothing reads are dropped (the ops refuse training
    /// outputs).</summary>
    private void DropUnusedOutputs(Node n, int first)
    {
        for (int k = n.Outputs.Count - 1; k >= first; k--)
        {
            if (n.Outputs[k].Length > 0 && _used.Contains(n.Outputs[k])) break;
            n.Outputs.RemoveAt(k);
        }
    }

    private bool TryShape(string value, out long[] dims)
    {
        if (_shapes.TryGetValue(value, out dims!)) return true;
        if (_consts.TryGetValue(value, out var c)) { dims = c.Dims; return true; }
        return false;
    }

    private long TypeCode(Node n, string name) => name.ToUpperInvariant() switch
    {
        "FLOAT" => 1,
        "UINT8" => 2,
        "INT8" => 3,
        "UINT16" => 4,
        "INT16" => 5,
        "INT32" => 6,
        "INT64" => 7,
        "STRING" => 8,
        "BOOL" => 9,
        "FLOAT16" => 10,
        "DOUBLE" => 11,
        "UINT32" => 12,
        "UINT64" => 13,
        _ => throw Fail($"Cast to '{name}' is not an ONNX type name", node: n.Name),
    };

    private T Read<T>(Node n, Func<T> read)
    {
        try { return read(); }
        catch (InvalidCastException e) { throw Fail(e.Message, node: n.Name); }
    }
}
