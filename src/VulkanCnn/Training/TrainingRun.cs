using System.Globalization;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Models;
using VulkanCnn.Nn;
using VulkanCnn.Training.Data;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Training;

/// <summary>Settings of a training run (what <c>vkcnn train</c> takes).</summary>
public sealed record TrainingRunOptions
{
    public string Model { get; init; } = "small-cnn";
    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 0.05;
    /// <summary>sgd or adam (adamw = adam with decoupled weight decay).</summary>
    public string Optimizer { get; init; } = "sgd";
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 5e-4;
    /// <summary>constant, step, cosine or onecycle; a linear warm-up of <see cref="WarmupSteps"/> comes first.</summary>
    public string Schedule { get; init; } = "cosine";
    public int WarmupSteps { get; init; }
    public double MaxGradNorm { get; init; }
    public float LabelSmoothing { get; init; }
    public int Seed { get; init; }
    /// <summary>Write a checkpoint every this many batches (and at the end of every epoch); 0 = epochs only.</summary>
    public int CheckpointEveryBatches { get; init; } = 100;
    public int EvalBatchSize { get; init; } = 256;
    /// <summary>GPU augmentation: random crop with this much zero padding (0 = off).</summary>
    public int AugmentPadding { get; init; }
    /// <summary>Train on the first N samples only (recorded so a resume uses the same data).</summary>
    public int? Limit { get; init; }
    /// <summary>GPU augmentation: random horizontal flips.</summary>
    public bool HorizontalFlip { get; init; }
    /// <summary>Start from this checkpoint's parameters and BatchNorm statistics (same model) with a fresh optimizer and
    /// schedule: fine-tuning, or a warm restart of the learning-rate schedule. Recorded in the checkpoint's settings.</summary>
    public string? InitFrom { get; init; }
    /// <summary>Fine-tune this imported network (<see cref="FineTune.Model"/>) instead of a built-in model; <see cref="Model"/> then
    /// names it (its file). Not stored in checkpoints: a resume passes it again.</summary>
    public Graph? Backbone { get; init; }
    /// <summary>The backbone value taken as features (default: its first output).</summary>
    public string? BackboneFeatures { get; init; }
    /// <summary>Which backbone parameters train: all, none, last:N or a name prefix (<see cref="FineTune.Unfreeze"/>).</summary>
    public string Unfreeze { get; init; } = "all";
    /// <summary>The backbone's learning rate when it differs from the head's <see cref="LearningRate"/> (the schedule scales
    /// both alike).</summary>
    public double? BackboneLearningRate { get; init; }
    /// <summary>The backbone's BatchNorms normalise with their running statistics and leave them alone.</summary>
    public bool FreezeBatchNorm { get; init; }
    /// <summary>Time every layer's forward and backward kernels (<see cref="Trainer.LastStepProfile"/>); not a setting of the
    /// run.</summary>
    public bool Profile { get; init; }

    internal Dictionary<string, string> ToSettings() => new()
    {
        ["optimizer"] = Optimizer,
        ["lr"] = Fmt(LearningRate),
        ["momentum"] = Fmt(Momentum),
        ["weight_decay"] = Fmt(WeightDecay),
        ["schedule"] = Schedule,
        ["warmup"] = Fmt(WarmupSteps),
        ["max_grad_norm"] = Fmt(MaxGradNorm),
        ["label_smoothing"] = Fmt(LabelSmoothing),
        ["batch"] = Fmt(BatchSize),
        ["epochs"] = Fmt(Epochs),
        ["augment_padding"] = Fmt(AugmentPadding),
        ["flip"] = HorizontalFlip ? "1" : "0",
        ["limit"] = Limit is { } l ? Fmt(l) : "",
        ["init_from"] = InitFrom is { } init ? Path.GetFileName(init) : "",
        ["model"] = Model,
        ["seed"] = Fmt(Seed),
        ["checkpoint_every"] = Fmt(CheckpointEveryBatches),
        ["features"] = BackboneFeatures ?? "",
        ["unfreeze"] = Unfreeze,
        ["backbone_lr"] = BackboneLearningRate is { } b ? Fmt(b) : "",
        ["freeze_bn"] = FreezeBatchNorm ? "1" : "0",
    };

    private static string Fmt(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The settings a checkpoint was trained with, so a resume continues the same run.</summary>
    public static TrainingRunOptions FromCheckpoint(CheckpointInfo info)
    {
        var s = info.Settings;
        double D(string k, double d) => s.TryGetValue(k, out var v) && v.Length > 0 ? double.Parse(v, CultureInfo.InvariantCulture) : d;
        var defaults = new TrainingRunOptions();
        return new TrainingRunOptions
        {
            Model = info.Model,
            Seed = info.Seed,
            Optimizer = s.GetValueOrDefault("optimizer", defaults.Optimizer),
            Schedule = s.GetValueOrDefault("schedule", defaults.Schedule),
            LearningRate = D("lr", defaults.LearningRate),
            Momentum = D("momentum", defaults.Momentum),
            WeightDecay = D("weight_decay", defaults.WeightDecay),
            WarmupSteps = (int)D("warmup", 0),
            MaxGradNorm = D("max_grad_norm", 0),
            LabelSmoothing = (float)D("label_smoothing", 0),
            BatchSize = (int)D("batch", defaults.BatchSize),
            Epochs = (int)D("epochs", defaults.Epochs),
            AugmentPadding = (int)D("augment_padding", 0),
            HorizontalFlip = s.GetValueOrDefault("flip") == "1",
            Limit = s.TryGetValue("limit", out var l) && l.Length > 0 ? int.Parse(l, CultureInfo.InvariantCulture) : null,
            CheckpointEveryBatches = (int)D("checkpoint_every", defaults.CheckpointEveryBatches),
            BackboneFeatures = s.GetValueOrDefault("features") is { Length: > 0 } f ? f : null,
            Unfreeze = s.GetValueOrDefault("unfreeze") is { Length: > 0 } u ? u : defaults.Unfreeze,
            BackboneLearningRate = s.GetValueOrDefault("backbone_lr") is { Length: > 0 } blr
                ? double.Parse(blr, CultureInfo.InvariantCulture) : null,
            FreezeBatchNorm = s.GetValueOrDefault("freeze_bn") == "1",
        };
    }
}

/// <summary>Progress after one batch.</summary>
public readonly record struct BatchProgress(int Epoch, int Batch, int BatchesPerEpoch, long Step, float Loss, double Accuracy,
    double ImagesPerSecond, double LearningRate);

/// <summary>Metrics after one epoch (test metrics when a test set was given).</summary>
public sealed record EpochResult(int Epoch, double TrainLoss, double TrainAccuracy, double? TestAccuracy, double Seconds,
    double ImagesPerSecond);

/// <summary>Accuracy and confusion matrix (rows: true class, columns: predicted).</summary>
public sealed record Evaluation(double Accuracy, int[,] Confusion, int Count);

/// <summary>
/// A whole training run: model, trainer, optimizer, schedule, epochs, evaluation and checkpoints.
/// Deterministic for a given seed: the batch order comes from (seed, epoch) and the kernels use no
/// atomics, so a run resumed from a checkpoint continues exactly as the uninterrupted one.
/// </summary>
public sealed class TrainingRun : IDisposable
{
    private readonly GpuDevice _device;
    private readonly IDataset _train;
    private readonly IDataset? _test;
    private readonly LearningRateSchedule _schedule;
    private readonly BatchLoader _loader;
    private int _startEpoch, _startBatch;

    public TrainingRun(GpuDevice device, IDataset train, IDataset? test, TrainingRunOptions options, string checkpointPath,
        string? resumeFrom = null)
    {
        _device = device;
        _train = train;
        _test = test;
        Options = options;
        CheckpointPath = checkpointPath;
        Init.ManualSeed(options.Seed);
        Model = options.Backbone is { } backbone
            ? FineTune.Model(backbone, options.BackboneFeatures, train.SampleShape, train.ClassCount, options.Unfreeze,
                (options.BackboneLearningRate ?? options.LearningRate) / options.LearningRate, options.FreezeBatchNorm)
            : SmallModels.Create(options.Model, train.SampleShape[0], train.ClassCount, train.SampleShape[1]);
        if (options.InitFrom is { } init && resumeFrom is null)
        {
            var initInfo = Checkpoint.LoadInto(init, Model);
            if (initInfo.Model != options.Model) throw new ArgumentException($"Checkpoint {init} holds a '{initInfo.Model}' model, not " +
                $"'{options.Model}'.", nameof(options));
        }
        _loader = new BatchLoader(train, options.BatchSize, options.Seed);
        long totalSteps = (long)_loader.BatchesPerEpoch * options.Epochs;
        LearningRateSchedule main = options.Schedule switch
        {
            "constant" => LearningRateSchedule.Constant,
            "step" => new StepSchedule(Math.Max(1, totalSteps / 3)),
            "cosine" => new CosineSchedule(Math.Max(1, totalSteps)),
            "onecycle" => new OneCycleSchedule(Math.Max(1, totalSteps)),
            _ => throw new ArgumentException($"Unknown schedule '{options.Schedule}' (constant, step, cosine, onecycle).", nameof(options)),
        };
        _schedule = options.WarmupSteps > 0 ? new WarmupSchedule(options.WarmupSteps, main) : main;
        CheckpointInfo? resumeInfo = null;
        if (resumeFrom is not null)
        {
            resumeInfo = Checkpoint.ReadInfo(resumeFrom);
            if (resumeInfo.Model != options.Model) throw new ArgumentException($"Checkpoint {resumeFrom} holds a '{resumeInfo.Model}' " +
                $"model, not '{options.Model}'.");
            if (resumeInfo.Batch >= _loader.BatchesPerEpoch)
                throw new ArgumentException($"Checkpoint {resumeFrom} stopped at batch {resumeInfo.Batch} of epoch " +
                    $"{resumeInfo.Epoch + 1}, but an epoch has {_loader.BatchesPerEpoch} batches with these settings; resume with the " +
                        $"settings it was trained with.");
        }
        Trainer = new Trainer(device, Model, new TensorShape([options.BatchSize, .. train.SampleShape.Dimensions.ToArray()]),
            CreateOptimizer,
            new TrainerOptions
            {
                LabelSmoothing = options.LabelSmoothing,
                Profile = options.Profile,
                Augmentation = new Augmentation(options.AugmentPadding, options.HorizontalFlip, options.Seed, Fill: BlackLevel(train)),
            });
        if (resumeFrom is not null)
        {
            try { Checkpoint.Restore(resumeFrom, Trainer); }
            catch
            {
                Trainer.Dispose();
                throw;
            }
            (_startEpoch, _startBatch) = (resumeInfo!.Epoch, resumeInfo.Batch);
        }
    }

    public TrainingRunOptions Options { get; }
    public string CheckpointPath { get; }
    public Module Model { get; }
    public Trainer Trainer { get; }
    /// <summary>True when the last <see cref="RunAsync"/> was cancelled and saved a checkpoint mid-run.</summary>
    public bool StoppedEarly { get; private set; }
    public event Action<BatchProgress>? BatchCompleted;
    public event Action<EpochResult>? EpochCompleted;

    /// <summary>The normalised value of a black pixel, so augmentation pads with black.</summary>
    private static float BlackLevel(IDataset data) => data is FashionMnist ? -FashionMnist.Mean / FashionMnist.Std : 0;

    private Optimizer CreateOptimizer(IReadOnlyList<TrainableParameter> parameters) => Options.Optimizer switch
    {
        "sgd" => new Sgd(_device, parameters, Options.LearningRate, Options.Momentum, nesterov: false, Options.WeightDecay,
            Options.MaxGradNorm),
        "adam" => new Adam(_device, parameters, Options.LearningRate, weightDecay: Options.WeightDecay, maxGradNorm: Options.MaxGradNorm),
        "adamw" =>
            new Adam(_device, parameters, Options.LearningRate, weightDecay: Options.WeightDecay, decoupledWeightDecay: true,
                maxGradNorm: Options.MaxGradNorm),
        _ => throw new ArgumentException($"Unknown optimizer '{Options.Optimizer}' (sgd, adam, adamw)."),
    };

    /// <summary>
    /// Trains the remaining epochs. Cancelling saves a checkpoint at the current batch and returns;
    /// a NaN loss stops with <see cref="TrainingDivergedException"/> without overwriting the last good checkpoint.
    /// </summary>
    public async Task<IReadOnlyList<EpochResult>> RunAsync(CancellationToken cancellationToken = default)
    {
        var results = new List<EpochResult>();
        for (int epoch = _startEpoch; epoch < Options.Epochs; epoch++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            double lossSum = 0;
            int correct = 0, seen = 0, batchIndex = epoch == _startEpoch ? _startBatch : 0;
            await foreach (var batch in _loader.EpochAsync(epoch, batchIndex, CancellationToken.None).ConfigureAwait(false))
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    Save(epoch, batch.Index);
                    StoppedEarly = true;
                    return results;
                }
                double lr = _schedule.LearningRate(Options.LearningRate, Trainer.Optimizer.Step);
                var r = Trainer.Step(batch.Images, batch.Labels, lr);
                if (!float.IsFinite(r.Loss))
                    throw new TrainingDivergedException($"The loss became {r.Loss} at epoch {epoch + 1}, batch {batch.Index + 1}; the " +
                        $"last good checkpoint {CheckpointPath} was kept. Lower the learning rate.");
                lossSum += r.Loss * batch.Size;
                correct += r.Correct;
                seen += batch.Size;
                BatchCompleted?.Invoke(new BatchProgress(epoch, batch.Index, _loader.BatchesPerEpoch, Trainer.Optimizer.Step, r.Loss,
                    (double)correct / seen, seen / clock.Elapsed.TotalSeconds, lr));
                if (Options.CheckpointEveryBatches > 0 && (batch.Index + 1) % Options.CheckpointEveryBatches == 0
                    && batch.Index + 1 < _loader.BatchesPerEpoch)
                    Save(epoch, batch.Index + 1);
            }
            double seconds = clock.Elapsed.TotalSeconds;
            Save(epoch + 1, 0);
            double? testAccuracy = _test is null ? null : Evaluate(_test).Accuracy;
            var result = new EpochResult(epoch + 1, seen > 0 ? lossSum / seen : double.NaN, seen > 0 ? (double)correct / seen : 0,
                testAccuracy, seconds, seen / seconds);
            results.Add(result);
            EpochCompleted?.Invoke(result);
        }
        return results;
    }

    /// <summary>Accuracy and confusion matrix of the current parameters (inference: BN folded, running statistics).</summary>
    public Evaluation Evaluate(IDataset data, int? limit = null)
    {
        Trainer.CopyParametersToModule();
        return Evaluator.Evaluate(_device, Model, data, Options.EvalBatchSize, limit);
    }

    private void Save(int epoch, int batch)
    {
        Trainer.CopyParametersToModule();
        // A finite loss can still come with an update that overflowed: never write such weights over a good checkpoint.
        foreach (var (name, p) in Model.StateDict())
            if (p.Data.Any(v => !float.IsFinite(v)))
                throw new TrainingDivergedException($"Parameter '{name}' became non-finite at epoch {epoch + 1}; the last good " +
                    $"checkpoint {CheckpointPath} was kept. Lower the learning rate.");
        Checkpoint.Save(CheckpointPath, Trainer, new CheckpointInfo
        {
            Model = Options.Model,
            InputShape = [1, .. _train.SampleShape.Dimensions.ToArray()],
            Mean = _train is FashionMnist ? [FashionMnist.Mean] : [],
            Std = _train is FashionMnist ? [FashionMnist.Std] : [],
            Labels = _train.ClassNames,
            Epoch = epoch,
            Batch = batch,
            Seed = Options.Seed,
            Settings = Options.ToSettings(),
        });
    }

    public void Dispose() => Trainer.Dispose();
}

/// <summary>The loss stopped being a finite number.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>Classification accuracy of a module on a dataset, through an inference session.</summary>
public static class Evaluator
{
    public static Evaluation Evaluate(GpuDevice device, Module model, IDataset data, int batchSize = 256, int? limit = null)
    {
        int count = Math.Min(limit ?? data.Count, data.Count);
        int classes = data.ClassCount, per = (int)data.SampleShape.ElementCount;
        var confusion = new int[classes, classes];
        int correct = 0;
        using var session = device.Compile(model, new TensorShape([Math.Min(batchSize, count), .. data.SampleShape.Dimensions.ToArray()]));
        if (session.OutputShape.Rank != 2 || session.OutputShape[1] != classes)
            throw new ArgumentException($"The model outputs {session.OutputShape} for {data.SampleShape} samples; the dataset has " +
                $"{classes} classes.", nameof(model));
        for (int start = 0; start < count; start += batchSize)
        {
            int n = Math.Min(batchSize, count - start);
            var images = new float[n * per];
            var labels = new int[n];
            for (int i = 0; i < n; i++) labels[i] = data.Read(start + i, images.AsSpan(i * per, per));
            var logits = session.Run(new TensorShape([n, .. data.SampleShape.Dimensions.ToArray()]), images);
            for (int i = 0; i < n; i++)
            {
                var row = logits.AsSpan(i * classes, classes);
                int best = 0;
                for (int c = 1; c < classes; c++) if (row[c] > row[best]) best = c;
                confusion[labels[i], best]++;
                if (best == labels[i]) correct++;
            }
        }
        return new Evaluation((double)correct / count, confusion, count);
    }
}
