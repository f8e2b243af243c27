namespace VulkanCnn.Ir;

/// <summary>
/// One operation of the IR. <see cref="OpType"/> and attribute names follow ONNX (Conv,
/// BatchNormalization, Gemm, Clip …). An empty input name means an omitted optional input.
/// </summary>
public sealed class Node
{
    public Node(string opType, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, Attributes? attributes = null)
    {
        OpType = opType;
        Name = name;
        Inputs = inputs.ToList();
        Outputs = outputs.ToList();
        Attributes = attributes ?? new Attributes();
    }

    public string OpType { get; }
    public string Name { get; }
    public List<string> Inputs { get; }
    public List<string> Outputs { get; }
    public Attributes Attributes { get; }

    /// <summary>True when input <paramref name="index"/> exists and is not the empty optional name.</summary>
    public bool HasInput(int index) => index < Inputs.Count && Inputs[index].Length > 0;

    public Node Clone() => new(OpType, Name, Inputs, Outputs, Attributes.Clone());

    public override string ToString() => $"{OpType} '{Name}' ({string.Join(", ", Inputs)}) -> ({string.Join(", ", Outputs)})";
}

/// <summary>Node attributes with typed getters; a wrong type is a <see cref="GraphException"/>-ready message.</summary>
public sealed class Attributes
{
    private readonly Dictionary<string, object> _values = new(StringComparer.Ordinal);

    public IEnumerable<string> Names => _values.Keys;
    public bool Has(string name) => _values.ContainsKey(name);
    public object? this[string name] => _values.GetValueOrDefault(name);

    public Attributes Set(string name, object value)
    {
        _values[name] = value switch
        {
            int i => (long)i,
            int[] a => a.Select(v => (long)v).ToArray(),
            double d => (float)d,
            _ => value,
        };
        return this;
    }

    public bool Remove(string name) => _values.Remove(name);

    public long Int(string name, long fallback) => _values.TryGetValue(name, out var v) ? v switch
    {
        long l => l,
        float f when f == MathF.Round(f) => (long)f,
        _ => throw new InvalidCastException($"attribute '{name}' is {Describe(v)}, not an integer"),
    } : fallback;

    public float Float(string name, float fallback) => _values.TryGetValue(name, out var v) ? v switch
    {
        float f => f,
        long l => l,
        _ => throw new InvalidCastException($"attribute '{name}' is {Describe(v)}, not a float"),
    } : fallback;

    public long[]? Ints(string name) => _values.TryGetValue(name, out var v) ? v switch
    {
        long[] a => a,
        long l => [l],
        _ => throw new InvalidCastException($"attribute '{name}' is {Describe(v)}, not a list of integers"),
    } : null;

    public float[]? Floats(string name) => _values.TryGetValue(name, out var v) ? v switch
    {
        float[] a => a,
        float f => [f],
        _ => throw new InvalidCastException($"attribute '{name}' is {Describe(v)}, not a list of floats"),
    } : null;

    public string? String(string name) => _values.TryGetValue(name, out var v) ? v as string
        ?? throw new InvalidCastException($"attribute '{name}' is {Describe(v)}, not a string") : null;

    public HostTensor? Tensor(string name) => _values.TryGetValue(name, out var v) ? v as HostTensor
        ?? throw new InvalidCastException($"attribute '{name}' is {Describe(v)}, not a tensor") : null;

    public Attributes Clone()
    {
        var copy = new Attributes();
        foreach (var (k, v) in _values) copy._values[k] = v;
        return copy;
    }

    private static string Describe(object v) => v switch
    {
        long[] a => $"ints [{string.Join(", ", a)}]",
        float[] a => $"floats [{string.Join(", ", a)}]",
        _ => $"{v.GetType().Name} {v}",
    };
}
