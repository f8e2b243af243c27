using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;

namespace VulkanCnn.Onnx;

/// <summary>
/// Per-node rewriting into opset-17 forms: the IR accepts the forms of every opset, ONNX 17 only
/// its own. Attributes that became inputs (Clip bounds, Squeeze/Unsqueeze/ReduceSum axes, Pad
/// pads, Split sizes, Slice starts, TopK k, Dropout ratio) are written as
/// constant inputs; forms of later opsets (ReduceMean/Max/Min axes input, Split num_outputs, Pad
/// and Resize axes, keep_aspect_ratio_policy, Gelu) are lowered. VulkanCnn's own Silu becomes
/// Sigmoid + Mul, and an activation fused by compilation becomes its own node again.
/// </summary>
internal sealed partial class GraphExporter
{
    private void Lower(Node source)
    {
        // Compilation may leave a residual Add on a Conv as a fourth input (Passes/FuseResidualAdds): Conv, then Add.
        if (source.OpType == "Conv" && source.Inputs.Count > 3 && source.HasInput(3))
        {
            LowerResidualConv(source);
            return;
        }
        var n = source.Clone();
        FusedActivation activation;
        try { activation = FusedActivation.FromAttributes(n.Attributes); }
        catch (Exception e) when (e is ArgumentException or InvalidCastException)
        {
            throw new OnnxExportException(n, $"its fused activation cannot be read: {e.Message}");
        }
        foreach (var key in n.Attributes.Names.Where(k =>
            k.StartsWith("vkcnn.", StringComparison.Ordinal)).ToList()) n.Attributes.Remove(key);
        n.Attributes.Remove("consumed_inputs"); // opset < 6 memory hint
        if (activation.Kind == ActivationKind.None)
        {
            LowerNode(n);
            return;
        }
        string y = n.Outputs[0], pre = Fresh(y + "/pre_activation");
        _shapes[pre] = _shapes[y];
        n.Outputs[0] = pre;
        LowerNode(n);
        LowerNode(ActivationNode(activation, n.Name, pre, y));
    }

    /// <summary>Conv(x, w, b, r) with activation a → Conv(x, w, b), then Add(conv, r) carrying a.</summary>
    private void LowerResidualConv(Node source)
    {
        var conv = source.Clone();
        string residual = conv.Inputs[3], y = conv.Outputs[0], pre = Fresh(y + "/conv");
        conv.Inputs.RemoveRange(3, conv.Inputs.Count - 3);
        while (conv.Inputs.Count > 2 && conv.Inputs[^1].Length == 0) conv.Inputs.RemoveAt(conv.Inputs.Count - 1);
        var add = new Attributes();
        foreach (var key in new[] { FusedActivation.KindAttribute, FusedActivation.AlphaAttribute, FusedActivation.BetaAttribute })
            if (conv.Attributes[key] is { } value)
            {
                add.Set(key, value);
                conv.Attributes.Remove(key);
            }
        _shapes[pre] = _shapes[y];
        conv.Outputs[0] = pre;
        Lower(conv);
        Lower(new Node("Add", conv.Name + "/residual_add", [pre, residual], [y], add));
    }

    /// <summary>The IR node of a fused activation, to be lowered like any other.</summary>
    private Node ActivationNode(FusedActivation a, string owner, string x, string y)
    {
        var attributes = new Attributes();
        string op = a.Kind switch
        {
            ActivationKind.Relu => "Relu",
            ActivationKind.LeakyRelu => Set("LeakyRelu", ("alpha", a.Alpha)),
            ActivationKind.Clip => "Clip",
            ActivationKind.Sigmoid => "Sigmoid",
            ActivationKind.Tanh => "Tanh",
            ActivationKind.HardSigmoid => Set("HardSigmoid", ("alpha", a.Alpha), ("beta", a.Beta)),
            ActivationKind.HardSwish => "HardSwish",
            ActivationKind.Silu => "Silu",
            ActivationKind.Elu => Set("Elu", ("alpha", a.Alpha)),
            ActivationKind.Gelu => Set("Gelu", ("approximate", "none")),
            ActivationKind.GeluTanh => Set("Gelu", ("approximate", "tanh")),
            _ => throw new OnnxExportException($"node '{owner}': fused activation {a.Kind} has no ONNX form"),
        };
        if (a.Kind == ActivationKind.Clip)
        {
            // Infinite bounds are the omitted ones.
            if (!float.IsNegativeInfinity(a.Alpha)) attributes.Set("min", a.Alpha);
            if (!float.IsPositiveInfinity(a.Beta)) attributes.Set("max", a.Beta);
        }
        return new Node(op, Fresh(owner + "/" + op.ToLowerInvariant()), [x], [y], attributes);

        string Set(string name, params (string Key, object Value)[] values)
        {
            foreach (var (k, v) in values) attributes.Set(k, v);
            return name;
        }
    }

    private void LowerNode(Node n)
    {
        switch (n.OpType)
        {
            case "Silu": LowerSilu(n); return;
            case "Gelu": LowerGelu(n); return;
            case "Clip": LowerClip(n); break;
            case "Squeeze" or "Unsqueeze" or "ReduceSum": AttributeToInput(n, "axes", 1); break;
            case "ReduceMean" or "ReduceMax" or "ReduceMin": if (!LowerReduce(n)) return; break;
            case "Split": LowerSplit(n); break;
            case "Pad": LowerPad(n); break;
            case "Slice":
                AttributeToInput(n, "starts", 1);
                AttributeToInput(n, "ends", 2);
                AttributeToInput(n, "axes", 3);
                break;
            case "TopK": AttributeToInput(n, "k", 1); break;
            case "Resize" or "Upsample": LowerResize(n); return;
            case "AveragePool":
                if (n.Attributes.Ints("dilations") is { } dilations)
                {
                    if (dilations.Any(d => d != 1))
                        throw new OnnxExportException(n,
                            $"dilations [{string.Join(", ", dilations)}] need opset 19 (AveragePool has no dilations at opset " +
                                $"{OnnxExporter.Opset})");
                    n.Attributes.Remove("dilations");
                }
                break;
            case "Dropout":
                if (n.Attributes.Has("ratio")) { SetInput(n, 1, Scalar(n.Attributes.Float("ratio", 0.5f))); n.Attributes.Remove("ratio"); }
                if (n.Attributes.Has("training_mode"))
                {
                    // A scalar; written as BOOL because input 2 requires it.
                    SetInput(n, 2,
                        Constant(n.Name + "/training_mode",
                            HostTensor.FromInts(new TensorShape(), [n.Attributes.Int("training_mode", 0)])));
                    n.Attributes.Remove("training_mode");
                }
                n.Attributes.Remove("is_test");
                break;
            case "Cast":
                n.Attributes.Remove("saturate"); // opset 19; float targets ignore it
                if (n.Attributes.Int("to", 1) is >= 17 and not 16)
                    throw new OnnxExportException(n,
                        $"to={n.Attributes.Int("to", 1)} is a type of a later opset than {OnnxExporter.Opset}");
                break;
            case "BatchNormalization":
                if (n.Attributes.Int("spatial", 1) == 1) n.Attributes.Remove("spatial");
                n.Attributes.Remove("is_test");
                break;
        }
        AddNode(n.OpType, n.Name, n.Inputs, n.Outputs, n.Attributes);
    }

    /// <summary>x * Sigmoid(x).</summary>
    private void LowerSilu(Node n)
    {
        string x = n.Inputs[0], y = n.Outputs[0], s = Fresh(y + "/sigmoid");
        _shapes[s] = _shapes[y];
        AddNode("Sigmoid", Fresh(n.Name + "/sigmoid"), [x], [s]);
        AddNode("Mul", n.Name, [x, s], [y]);
    }

    /// <summary>Gelu is opset 20: 0.5·x·(1 + erf(x/√2)), or with approximate="tanh" 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    private void LowerGelu(Node n)
    {
        string x = n.Inputs[0], y = n.Outputs[0];
        string approximate = n.Attributes.String("approximate") ?? "none";
        string Step(string op, string a, string b)
        {
            string value = Fresh($"{y}/{op.ToLowerInvariant()}");
            _shapes[value] = _shapes[y];
            AddNode(op, Fresh($"{n.Name}/{op.ToLowerInvariant()}"), b.Length > 0 ? [a, b] : [a], [value]);
            return value;
        }
        string inner = approximate switch
        {
            "none" => Step("Erf", Step("Div", x, Scalar(MathF.Sqrt(2))), ""),
            "tanh" =>
                Step("Tanh",
                    Step("Mul", Step("Add", x, Step("Mul", Step("Mul", Step("Mul", x, x), x), Scalar(0.044715f))),
                        Scalar(MathF.Sqrt(2 / MathF.PI))), ""),
            _ => throw new OnnxExportException(n, $"approximate '{approximate}' is not 'none' or 'tanh'"),
        };
        string half = Step("Mul", x, Scalar(0.5f));
        string onePlus = Step("Add", inner, Scalar(1));
        AddNode("Mul", n.Name, [half, onePlus], [y]);
    }

    /// <summary>Clip's min/max attributes (opset &lt; 11) become scalar inputs; an input, where given, wins as in the runtime.</summary>
    private void LowerClip(Node n)
    {
        var a = n.Attributes;
        for (int i = 1; i <= 2; i++)
        {
            string key = i == 1 ? "min" : "max";
            if (a.Has(key) && !n.HasInput(i)) SetInput(n, i, Scalar(a.Float(key, 0)));
            a.Remove(key);
        }
    }

    private void AttributeToInput(Node n, string attribute, int index)
    {
        if (n.Attributes.Ints(attribute) is not { } values) return;
        n.Attributes.Remove(attribute);
        if (n.HasInput(index)) throw new OnnxExportException(n, $"'{attribute}' is given both as an attribute and as input {index}");
        SetInput(n, index, Ints($"{n.Name}/{attribute}", values));
    }

    /// <summary>ReduceMean/Max/Min keep axes as an attribute at opset 17 (the input is opset 18). False when the node became an
    /// Identity.</summary>
    private bool LowerReduce(Node n)
    {
        long[]? axes = n.Attributes.Ints("axes");
        if (n.HasInput(1))
        {
            axes = (ConstantOf(n.Inputs[1])
                ?? throw new OnnxExportException(n, "axes (input 1) must be a constant to become the opset-17 attribute")).AsInts();
            n.Inputs.RemoveAt(1);
        }
        bool noop = n.Attributes.Int("noop_with_empty_axes", 0) != 0;
        n.Attributes.Remove("noop_with_empty_axes"); // opset 18
        n.Attributes.Remove("axes");
        if (axes is { Length: > 0 }) n.Attributes.Set("axes", axes);
        else if (noop)
        {
            AddNode("Identity", n.Name, [n.Inputs[0]], [n.Outputs[0]]);
            return false;
        }
        return true;
    }

    /// <summary>The 'split' attribute becomes input 1; num_outputs (opset 18) becomes sizes when the chunks are unequal.</summary>
    private void LowerSplit(Node n)
    {
        AttributeToInput(n, "split", 1);
        if (!n.Attributes.Has("num_outputs")) return;
        n.Attributes.Remove("num_outputs");
        if (n.HasInput(1)) return;
        var x = _shapes[n.Inputs[0]];
        long axis = n.Attributes.Int("axis", 0);
        int a = (int)(axis < 0 ? axis + x.Rank : axis);
        long[] sizes = n.Outputs.Select(o => (long)_shapes[o][a]).ToArray();
        if (sizes.Distinct().Count() > 1) SetInput(n, 1, Ints(n.Name + "/split", sizes));
    }

    /// <summary>Pads (attribute before opset 11, 'paddings' in opset 1) and 'value' become inputs; the axes input (opset 18) is folded into
    /// full-rank pads.</summary>
    private void LowerPad(Node n)
    {
        var a = n.Attributes;
        if (a.String("mode") == "wrap") throw new OnnxExportException(n,
            $"mode 'wrap' needs opset 19; opset {OnnxExporter.Opset} has constant, reflect and edge");
        long[]? pads = a.Ints("pads") ?? a.Ints("paddings");
        bool changed = pads is not null;
        a.Remove("pads");
        a.Remove("paddings");
        if (a.Has("value"))
        {
            if (!n.HasInput(2)) SetInput(n, 2, Scalar(a.Float("value", 0)));
            a.Remove("value");
        }
        if (n.HasInput(3))
        {
            int rank = _shapes[n.Inputs[0]].Rank;
            pads ??= (ConstantOf(n.Inputs[1])
                ?? throw new OnnxExportException(n, "pads (input 1) must be a constant to expand its axes")).AsInts();
            long[] axes = (ConstantOf(n.Inputs[3]) ?? throw new OnnxExportException(n, "axes (input 3) must be a constant")).AsInts();
            var full = new long[2 * rank];
            for (int i = 0; i < axes.Length; i++)
            {
                int axis = (int)(axes[i] < 0 ? axes[i] + rank : axes[i]);
                full[axis] = pads[i];
                full[axis + rank] = pads[i + axes.Length];
            }
            pads = full;
            changed = true;
            n.Inputs.RemoveRange(3, n.Inputs.Count - 3);
        }
        if (changed) SetInput(n, 1, Ints(n.Name + "/pads", pads!));
    }

    private static void SetInput(Node n, int index, string value)
    {
        while (n.Inputs.Count <= index) n.Inputs.Add("");
        n.Inputs[index] = value;
    }
}
