using System.Globalization;
using System.Text.Json;
using VulkanCnn.Nn;

namespace VulkanCnn.Training;

/// <summary>
/// Where a training run stands, stored in a checkpoint's versioned <c>__metadata__</c> so the
/// file describes itself: model, input shape, normalisation, labels, position and settings.
/// </summary>
public sealed record CheckpointInfo
{
    public const string Format = "vkcnn-checkpoint";
    public const int CurrentVersion = 1;

    public required string Model { get; init; }
    public required int[] InputShape { get; init; }
    public float[] Mean { get; init; } = [];
    public float[] Std { get; init; } = [];
    public IReadOnlyList<string> Labels { get; init; } = [];
    public long Step { get; init; }
    public int Epoch { get; init; }
    /// <summary>Batches of <see cref="Epoch"/> already trained (0 = the epoch has not started).</summary>
    public int Batch { get; init; }
    public int Seed { get; init; }
    /// <summary>Settings needed to continue the same run (optimizer, learning rate, batch size, schedule …).</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    internal Dictionary<string, string> ToMetadata() => new()
    {
        ["format"] = Format,
        ["version"] = CurrentVersion.ToString(CultureInfo.InvariantCulture),
        ["model"] = Model,
        ["input_shape"] = JsonSerializer.Serialize(InputShape),
        ["mean"] = JsonSerializer.Serialize(Mean),
        ["std"] = JsonSerializer.Serialize(Std),
        ["labels"] = JsonSerializer.Serialize(Labels),
        ["step"] = Step.ToString(CultureInfo.InvariantCulture),
        ["epoch"] = Epoch.ToString(CultureInfo.InvariantCulture),
        ["batch"] = Batch.ToString(CultureInfo.InvariantCulture),
        ["seed"] = Seed.ToString(CultureInfo.InvariantCulture),
        ["settings"] = JsonSerializer.Serialize(Settings),
    };

    internal static CheckpointInfo FromMetadata(string path, IReadOnlyDictionary<string, string> m)
    {
        string Get(string key) => m.TryGetValue(key, out var v) ? v
            : throw new SafetensorsException(path, $"checkpoint metadata has no '{key}'");
        if (Get("format") != Format) throw new SafetensorsException(path, $"is not a {Format} file (format '{m["format"]}')");
        int version = int.Parse(Get("version"), CultureInfo.InvariantCulture);
        if (version > CurrentVersion) throw new SafetensorsException(path,
            $"checkpoint version {version} is newer than this build reads ({CurrentVersion})");
        try
        {
            return new CheckpointInfo
            {
                Model = Get("model"),
                InputShape = JsonSerializer.Deserialize<int[]>(Get("input_shape"))!,
                Mean = JsonSerializer.Deserialize<float[]>(Get("mean"))!,
                Std = JsonSerializer.Deserialize<float[]>(Get("std"))!,
                Labels = JsonSerializer.Deserialize<string[]>(Get("labels"))!,
                Step = long.Parse(Get("step"), CultureInfo.InvariantCulture),
                Epoch = int.Parse(Get("epoch"), CultureInfo.InvariantCulture),
                Batch = int.Parse(Get("batch"), CultureInfo.InvariantCulture),
                Seed = int.Parse(Get("seed"), CultureInfo.InvariantCulture),
                Settings = JsonSerializer.Deserialize<Dictionary<string, string>>(Get("settings"))!,
            };
        }
        catch (Exception e) when (e is JsonException or FormatException or OverflowException)
        {
            throw new SafetensorsException(path, "checkpoint metadata is malformed: " + e.Message);
        }
    }
}

/// <summary>
/// Checkpoints in safetensors: parameters under their state_dict names, optimizer state under
/// <c>optimizer.&lt;param&gt;.&lt;exp_avg|exp_avg_sq|momentum_buffer&gt;</c>. Writes are atomic
/// (temporary file + rename), so a crash mid-save leaves the previous checkpoint intact.
/// </summary>
public static class Checkpoint
{
    private const string OptimizerPrefix = "optimizer.";

    public static void Save(string path, Trainer trainer, CheckpointInfo info)
    {
        var tensors = new Dictionary<string, (TensorShape, float[])>(StringComparer.Ordinal);
        foreach (var (name, t) in trainer.Parameters) tensors[name] = (t.Shape, t.ToArray());
        foreach (var (name, t) in trainer.Optimizer.State) tensors[OptimizerPrefix + name] = (t.Shape, t.ToArray());
        Safetensors.Save(path, tensors, (info with { Step = trainer.Optimizer.Step }).ToMetadata());
    }

    /// <summary>Reads only the metadata (to rebuild the model before loading).</summary>
    public static CheckpointInfo ReadInfo(string path) => CheckpointInfo.FromMetadata(path, Safetensors.Load(path).Metadata);

    /// <summary>Loads parameters and optimizer state into a trainer built for the same model; every tensor is checked first.</summary>
    public static CheckpointInfo Restore(string path, Trainer trainer)
    {
        var (tensors, metadata) = Safetensors.Load(path);
        var info = CheckpointInfo.FromMetadata(path, metadata);
        var targets = trainer.Parameters.Select(p => (Name: p.Key, Tensor: p.Value))
            .Concat(trainer.Optimizer.State.Select(s => (Name: OptimizerPrefix + s.Key, Tensor: s.Value))).ToList();
        foreach (var (name, t) in targets)
        {
            if (!tensors.TryGetValue(name, out var v)) throw new SafetensorsException(path,
                $"has no tensor '{name}' for this model/optimizer");
            if (v.Shape != t.Shape) throw new SafetensorsException(path,
                $"tensor '{name}' has shape {v.Shape}; the model expects {t.Shape}");
        }
        foreach (var (name, t) in targets) t.Upload(tensors[name].Data);
        trainer.Optimizer.Step = info.Step;
        return info;
    }

    /// <summary>Loads the parameters of a checkpoint into a module (for inference or fine-tuning).</summary>
    public static CheckpointInfo LoadInto(string path, Module module)
    {
        var (tensors, metadata) = Safetensors.Load(path);
        CopyInto(path, tensors, module);
        return CheckpointInfo.FromMetadata(path, metadata);
    }

    /// <summary>The built-in model a checkpoint of <c>vkcnn train</c> describes, with its parameters, from one read of the file.</summary>
    public static (Module Model, CheckpointInfo Info) LoadModel(string path)
    {
        var (tensors, metadata) = Safetensors.Load(path);
        var info = CheckpointInfo.FromMetadata(path, metadata);
        var model = Models.SmallModels.Create(info.Model, info.InputShape[1], info.Labels.Count, info.InputShape[2]);
        CopyInto(path, tensors, model);
        return (model, info);
    }

    private static void CopyInto(string path, IReadOnlyDictionary<string, (TensorShape Shape, float[] Data)> tensors, Module module)
    {
        var state = module.StateDict();
        foreach (var (name, p) in state)
        {
            if (!tensors.TryGetValue(name, out var v)) throw new SafetensorsException(path, $"has no tensor '{name}'");
            if (v.Shape != p.Shape) throw new SafetensorsException(path,
                $"tensor '{name}' has shape {v.Shape}; the model expects {p.Shape}");
        }
        foreach (var (name, p) in state) tensors[name].Data.CopyTo(p.Data, 0);
    }
}
