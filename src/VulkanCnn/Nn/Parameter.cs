namespace VulkanCnn.Nn;

/// <summary>A learnable (or buffer) tensor of a module; its name is the module path (PyTorch state_dict style).</summary>
public sealed class Parameter
{
    public Parameter(TensorShape shape, float[] data)
    {
        if (data.Length != shape.ElementCount)
            throw new ArgumentException($"Parameter of shape {shape} needs {shape.ElementCount} values, got {data.Length}.", nameof(data));
        Shape = shape;
        Data = data;
    }

    public TensorShape Shape { get; }
    /// <summary>The values (row-major); replace them in place to load weights.</summary>
    public float[] Data { get; }
    /// <summary>Full dotted path, e.g. <c>layer1.0.conv1.weight</c>; set when the module tree is named.</summary>
    public string Name { get; internal set; } = "";

    /// <summary>Trained by the optimizer (false for buffers such as BatchNorm running statistics, and for frozen layers).</summary>
    public bool RequiresGrad { get; set; } = true;

    /// <summary>Multiplies the optimizer's learning rate for this parameter (a parameter group: a lower rate for a pretrained
    /// backbone than for its new head). Default 1.</summary>
    public double LearningRateScale { get; set; } = 1;
}

/// <summary>Deterministic initialisation, as PyTorch's defaults (kaiming-uniform with a = √5 for conv/linear).</summary>
public static class Init
{
    [ThreadStatic] private static Random? _rng;

    /// <summary>Seeds the initialisation of modules created afterwards on this thread.</summary>
    public static void ManualSeed(int seed) => _rng = new Random(seed);

    internal static Random Rng => _rng ??= new Random(0);

    public static float[] Uniform(long count, float bound)
    {
        var rng = Rng;
        var data = new float[count];
        for (long i = 0; i < count; i++) data[i] = (rng.NextSingle() * 2 - 1) * bound;
        return data;
    }

    public static float[] Fill(long count, float value)
    {
        var data = new float[count];
        Array.Fill(data, value);
        return data;
    }
}
