using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace VulkanCnn.Tests.Infrastructure;

/// <summary>A named float tensor: C-order data and its shape.</summary>
public sealed record NamedTensor(float[] Data, int[] Shape)
{
    public override string ToString() => $"[{string.Join(", ", Shape)}]";
}

/// <summary>
/// Runs an ONNX model in ONNX Runtime on the CPU (one intra-op thread per core), the reference the
/// importer's results are compared with. Inputs are float tensors; int64/int32/bool outputs come back
/// as float values, like VulkanCnn's integer outputs.
/// </summary>
public sealed class OrtRunner : IDisposable
{
    private readonly InferenceSession _session;

    public OrtRunner(string modelPath, GraphOptimizationLevel optimization = GraphOptimizationLevel.ORT_ENABLE_ALL)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = Environment.ProcessorCount,
            InterOpNumThreads = 1,
            GraphOptimizationLevel = optimization,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        ModelPath = modelPath;
        _session = new InferenceSession(modelPath, options);
    }

    public string ModelPath { get; }

    /// <summary>Input names and declared shapes (-1 for a symbolic dimension), in model order.</summary>
    public IReadOnlyList<(string Name, int[] Shape, Type ElementType)> Inputs =>
        _session.InputNames.Select(n => (n, _session.InputMetadata[n].Dimensions, _session.InputMetadata[n].ElementType)).ToList();

    /// <summary>Output names and declared shapes, in model order.</summary>
    public IReadOnlyList<(string Name, int[] Shape, Type ElementType)> Outputs =>
        _session.OutputNames.Select(n => (n, _session.OutputMetadata[n].Dimensions, _session.OutputMetadata[n].ElementType)).ToList();

    /// <summary>Runs the model; returns every graph output by name.</summary>
    public Dictionary<string, NamedTensor> Run(IReadOnlyDictionary<string, NamedTensor> inputs)
    {
        foreach (string name in inputs.Keys)
            if (!_session.InputMetadata.ContainsKey(name))
                throw new ArgumentException($"{Path.GetFileName(ModelPath)} has no input '{name}'; its inputs are " +
                    $"{string.Join(", ", _session.InputNames)}.");
        var values = new List<NamedOnnxValue>();
        foreach (var (name, t) in inputs)
        {
            long count = t.Shape.Aggregate(1L, (a, d) => a * d);
            if (count != t.Data.Length)
                throw new ArgumentException($"Input '{name}': shape [{string.Join(", ", t.Shape)}] holds {count} values, data has " +
                    $"{t.Data.Length}.");
            values.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(t.Data, t.Shape)));
        }
        using var results = _session.Run(values);
        var outputs = new Dictionary<string, NamedTensor>();
        foreach (var r in results)
        {
            outputs[r.Name] = r.Value switch
            {
                Tensor<float> f => new NamedTensor(f.ToArray(), f.Dimensions.ToArray()),
                Tensor<long> l => new NamedTensor(l.ToArray().Select(v => (float)v).ToArray(), l.Dimensions.ToArray()),
                Tensor<int> i => new NamedTensor(i.ToArray().Select(v => (float)v).ToArray(), i.Dimensions.ToArray()),
                Tensor<bool> b => new NamedTensor(b.ToArray().Select(v => v ? 1f : 0f).ToArray(), b.Dimensions.ToArray()),
                _ => throw new NotSupportedException($"Output '{r.Name}' has type {r.Value?.GetType().Name}; OrtRunner returns float " +
                    $"tensors."),
            };
        }
        return outputs;
    }

    /// <summary>Runs a model with one input and returns its first output.</summary>
    public NamedTensor RunSingle(NamedTensor input)
    {
        if (_session.InputNames.Count != 1)
            throw new InvalidOperationException(
                $"{Path.GetFileName(ModelPath)} has {_session.InputNames.Count} inputs; use Run with names.");
        return Run(new Dictionary<string, NamedTensor> { [_session.InputNames[0]] = input })[_session.OutputNames[0]];
    }

    /// <summary>Loads the model, runs it once and disposes the session.</summary>
    public static Dictionary<string, NamedTensor> Run(string modelPath, IReadOnlyDictionary<string, NamedTensor> inputs)
    {
        using var runner = new OrtRunner(modelPath);
        return runner.Run(inputs);
    }

    public void Dispose() => _session.Dispose();
}
