using Spectre.Console;
using System.CommandLine;
using VulkanCnn.Models;
using VulkanCnn.Training;
using VulkanCnn.Training.Data;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Cli.Commands;

/// <summary>
/// <c>vkcnn train</c>: trains a built-in model on Fashion-MNIST with a live progress bar, writes a
/// checkpoint (safetensors), a metrics CSV, a training-curve PNG and a confusion matrix, and
/// evaluates on the test set. Ctrl+C saves a checkpoint and exits; <c>--resume</c> continues it.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var dataset = new Option<string>("--dataset")
        {
            Description = "fashion-mnist, a folder holding its IDX files, or an image folder (DIR/<class>/*.jpg, or DIR/train and " +
                "DIR/test).",
            DefaultValueFactory = _ => "fashion-mnist",
        };
        var imageSize = new Option<int>("--image-size")
        {
            Description = "Image folders: side of the square the images are resized and " +
            "cropped to.",
            DefaultValueFactory = _ => 28
        };
        var grayscale = new Option<bool>("--grayscale") { Description = "Image folders: train on one grey channel instead of RGB." };
        var augmentPad = new Option<int>("--augment-pad")
        {
            Description = "GPU augmentation: random crop with N pixels of padding.",
            DefaultValueFactory = _ => 0
        };
        var flip = new Option<bool>("--flip") { Description = "GPU augmentation: random horizontal flips." };
        var model = new Option<string>("--model")
        {
            Description = $"Built-in model ({string.Join(", ", SmallModels.Names)}), or an .onnx network to fine-tune end to end " +
                "with a new linear head.",
            DefaultValueFactory = _ => "small-cnn"
        };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 10 };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 64 };
        var lr = new Option<double>("--lr") { Description = "Base learning rate.", DefaultValueFactory = _ => 0.05 };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd, adam or adamw.", DefaultValueFactory = _ => "sgd" };
        var schedule = new Option<string>("--schedule")
        {
            Description = "constant, step, cosine or onecycle.",
            DefaultValueFactory = _ =>
            "cosine"
        };
        var smoothing = new Option<float>("--label-smoothing") { DefaultValueFactory = _ => 0f };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 0 };
        var limit = new Option<int?>("--limit")
        {
            Description = "Train on N images (quick trials): Fashion-MNIST's first N, an image folder's N spread over its classes.",
        };
        var testLimit = new Option<int?>("--test-limit")
        {
            Description = "Evaluate on N test images (Fashion-MNIST's first N, an image folder's spread over its classes).",
        };
        var output = new Option<string>("--out")
        {
            Description = "Checkpoint path (.safetensors); metrics, curve and confusion matrix " +
            "go next to it.",
            Required = true
        };
        var resume = new Option<string?>("--resume") { Description = "Continue from this checkpoint." };
        var init = new Option<string?>("--init")
        {
            Description = "Start from this checkpoint's weights with a fresh optimizer and " +
            "schedule (fine-tuning, warm restart)."
        };
        var profile = new Option<bool>("--profile")
        {
            Description = "After training, print the GPU time of every layer's forward and " +
            "backward kernels in the last step."
        };
        var checkpointEvery = new Option<int>("--checkpoint-every")
        {
            Description = "Also checkpoint every N batches (0: epochs only).",
            DefaultValueFactory = _ => 100
        };
        var command = new Command("train", "Train a built-in CNN, or fine-tune an imported one, on the GPU.")
        {
            dataset, model, epochs, batch, lr, optimizer, schedule, smoothing, seed, limit, testLimit, output, resume, init,
                checkpointEvery, imageSize, grayscale, augmentPad, flip, profile, FeaturesOption, UnfreezeOption, PreprocessOption,
                BackboneLrOption, FreezeBnOption,
        };
        command.SetAction(async (result, ct) =>
        {
            var options = new TrainingRunOptions
            {
                Model = result.GetValue(model)!,
                Epochs = result.GetValue(epochs),
                BatchSize = result.GetValue(batch),
                LearningRate = result.GetValue(lr),
                Optimizer = result.GetValue(optimizer)!,
                Schedule = result.GetValue(schedule)!,
                LabelSmoothing = result.GetValue(smoothing),
                Seed = result.GetValue(seed),
                CheckpointEveryBatches = result.GetValue(checkpointEvery),
                AugmentPadding = result.GetValue(augmentPad),
                HorizontalFlip = result.GetValue(flip),
                InitFrom = result.GetValue(init),
            };
            if (options.InitFrom is not null && result.GetValue(resume) is not null)
                throw new ArgumentException("Use --init to start a new run from a checkpoint's weights, or --resume to continue one; " +
                    "not both.", "--init");
            if (result.GetValue(resume) is { } resumePath)
            {
                // A resume continues the same run: its settings come from the checkpoint, not from defaults.
                options = TrainingRunOptions.FromCheckpoint(Checkpoint.ReadInfo(resumePath));
                AnsiConsole.MarkupLine($"Resuming with the checkpoint's settings: {Markup.Escape(options.Model)}, {options.Optimizer} " +
                    $"lr {options.LearningRate}, batch {options.BatchSize}, {options.Epochs} epochs, seed {options.Seed}");
            }
            else
            {
                options = options with { Limit = result.GetValue(limit) };
                if (File.Exists(result.GetValue(output)))
                    throw new ArgumentException($"{result.GetValue(output)} exists; continue it with --resume " +
                        $"{result.GetValue(output)}, or choose another --out.");
            }
            options = WithBackbone(options with { Profile = result.GetValue(profile) }, result,
                resumed: result.GetValue(resume) is not null);
            if (Path.GetExtension(result.GetValue(output)) != ".safetensors")
                throw new ArgumentException($"--out must name a .safetensors checkpoint (the ONNX export goes beside it), got " +
                    $"{result.GetValue(output)}.");
            var (train, test) = LoadData(result.GetValue(dataset)!, options.Limit, result.GetValue(testLimit), result.GetValue(imageSize),
                result.GetValue(grayscale), result.GetValue(PreprocessOption)!);
            return await Run(GlobalOptions.DeviceOptions(result), train, test, options, result.GetValue(output)!, result.GetValue(resume),
                ct);
        });
        return command;
    }

    internal static readonly Option<string?> FeaturesOption = new("--features")
    {
        Description = "An .onnx --model's value to take as features (default: its first output).",
    };

    internal static readonly Option<string> UnfreezeOption = new("--unfreeze")
    {
        Description = "An .onnx --model's parameters that train: all, none (a linear probe), last:N (the last N weighted layers) " +
            "or a name prefix.",
        DefaultValueFactory = _ => "all",
    };

    internal static readonly Option<double?> BackboneLrOption = new("--backbone-lr")
    {
        Description = "An .onnx --model's learning rate when it should differ from the new head's --lr (e.g. 10x lower).",
    };

    internal static readonly Option<bool> FreezeBnOption = new("--freeze-bn")
    {
        Description = "An .onnx --model's BatchNorms keep normalising with their running statistics (and leave them alone).",
    };

    internal static readonly Option<string> PreprocessOption = new("--preprocess")
    {
        Description = "Image folders: imagenet (RGB, 0..1, ImageNet mean and std) or caffe (BGR, 0..255 minus a per-channel mean: " +
            "the pretrained ResNet18's input).",
        DefaultValueFactory = _ => "imagenet",
    };

    /// <summary>An .onnx model is loaded as the backbone to fine-tune (its features and unfreeze spec from the command line, or
    /// the checkpoint's on a resume).</summary>
    internal static TrainingRunOptions WithBackbone(TrainingRunOptions options, ParseResult result, bool resumed)
    {
        if (!options.Model.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) return options;
        if (!File.Exists(options.Model)) throw new FileNotFoundException($"--model '{options.Model}' does not exist.", options.Model);
        options = options with { Backbone = VulkanCnn.Onnx.OnnxImporter.Load(options.Model) };
        return resumed ? options
            : options with
            {
                BackboneFeatures = result.GetValue(FeaturesOption),
                Unfreeze = result.GetValue(UnfreezeOption)!,
                BackboneLearningRate = result.GetValue(BackboneLrOption),
                FreezeBatchNorm = result.GetValue(FreezeBnOption),
            };
    }

    /// <summary>Fashion-MNIST (Debian's package or a folder of its IDX files), or an image folder.</summary>
    internal static (IDataset Train, IDataset? Test) LoadData(string dataset, int? limit, int? testLimit, int imageSize, bool grayscale,
        string preprocess = "imagenet")
    {
        if (preprocess is not ("imagenet" or "caffe"))
            throw new ArgumentException($"--preprocess '{preprocess}' is not imagenet or caffe.", nameof(preprocess));
        bool caffe = preprocess == "caffe" && !grayscale;
        string folder = dataset == "fashion-mnist" ? FashionMnist.DefaultDirectory : dataset;
        bool idx = dataset == "fashion-mnist" || Directory.EnumerateFiles(folder, "*-idx?-ubyte*").Any();
        if (idx) return (FashionMnist.Load(train: true, folder, limit), FashionMnist.Load(train: false, folder, testLimit));
        var options = new VulkanCnn.Imaging.ImagePreprocessOptions
        {
            ResizeShorterSide = imageSize,
            CropWidth = imageSize,
            CropHeight = imageSize,
            ChannelOrder = grayscale ? VulkanCnn.Imaging.ChannelOrder.Grayscale
                : caffe ? VulkanCnn.Imaging.ChannelOrder.Bgr : VulkanCnn.Imaging.ChannelOrder.Rgb,
            Range = caffe ? VulkanCnn.Imaging.PixelRange.ZeroTo255 : VulkanCnn.Imaging.PixelRange.ZeroToOne,
            Mean = grayscale ? [0.5f] : caffe ? [103.06f, 115.90f, 123.15f] : [0.485f, 0.456f, 0.406f],
            Std = grayscale ? [0.25f] : caffe ? [1f, 1f, 1f] : [0.229f, 0.224f, 0.225f],
        };
        IDataset Limit(IDataset d, int? n) => n is { } k && k < d.Count ? new SubsetDataset(d, k) : d;
        if (Directory.Exists(Path.Combine(folder, "train")) && Directory.Exists(Path.Combine(folder, "test")))
            return (Limit(new VulkanCnn.Imaging.ImageFolderDataset(Path.Combine(folder, "train"), options), limit),
                    Limit(new VulkanCnn.Imaging.ImageFolderDataset(Path.Combine(folder, "test"), options), testLimit));
        return (Limit(new VulkanCnn.Imaging.ImageFolderDataset(folder, options), limit), null);
    }

    internal static async Task<int> Run(GpuDeviceOptions deviceOptions, IDataset train, IDataset? test, TrainingRunOptions options,
        string output, string? resume, CancellationToken ct)
    {
        using var gpu = GpuDevice.Create(deviceOptions);
        AnsiConsole.MarkupLine($"Training [bold]{options.Model}[/] on {train.Count} images ({test?.Count ?? 0} test) on " +
            $"[bold]{Markup.Escape(gpu.Info.Name)}[/]");

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stop.Cancel(); };
        Console.CancelKeyPress += onCancel;
        // A scheduler's SIGTERM (or `kill`) also saves a checkpoint before exiting.
        using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM,
            context => { context.Cancel = true; stop.Cancel(); });
        var metrics = new MetricsWriter(output);
        try
        {
            using var run = new TrainingRun(gpu, train, test, options, output, resume);
            run.EpochCompleted += metrics.Add;
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(),
                    new SpinnerColumn())
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask("starting", maxValue: options.Epochs);
                    run.BatchCompleted += p =>
                    {
                        task.Value = p.Epoch + (double)(p.Batch + 1) / p.BatchesPerEpoch;
                        task.Description = $"epoch {p.Epoch + 1}/{options.Epochs} batch {p.Batch + 1}/{p.BatchesPerEpoch} loss " +
                            $"{p.Loss:0.000} acc {p.Accuracy:P1} {p.ImagesPerSecond:0} img/s";
                    };
                    await run.RunAsync(stop.Token);
                });
            if (run.StoppedEarly)
            {
                AnsiConsole.MarkupLine($"[yellow]Stopped; checkpoint saved to {Markup.Escape(output)}. Continue with --resume " +
                    $"{Markup.Escape(output)}.[/]");
                return 130;
            }
            metrics.WriteCurve();
            if (options.Profile)
            {
                var profile = run.Trainer.LastStepProfile();
                ProfileTable.Write(profile, $"GPU time of the last training step: {profile.TotalMilliseconds:0.0} ms", 15);
            }
            run.Trainer.CopyParametersToModule();
            string onnx = Path.ChangeExtension(output, ".onnx");
            VulkanCnn.Onnx.OnnxExporter.Save(VulkanCnn.Nn.Modules.ToGraph(run.Model,
                new TensorShape([1, .. train.SampleShape.Dimensions.ToArray()]), Path.GetFileNameWithoutExtension(options.Model)), onnx);
            AnsiConsole.MarkupLine($"ONNX export: {Markup.Escape(onnx)}");
            if (test is not null)
            {
                var evaluation = run.Evaluate(test);
                metrics.WriteConfusion(evaluation, test.ClassNames);
                AnsiConsole.MarkupLine($"Test accuracy: [bold]{evaluation.Accuracy:P2}[/] on {evaluation.Count} images.");
            }
            AnsiConsole.MarkupLine($"Checkpoint: {Markup.Escape(output)}; metrics: {Markup.Escape(metrics.CsvPath)}, " +
                $"{Markup.Escape(metrics.PngPath)}");
            return 0;
        }
        catch (TrainingDivergedException e)
        {
            AnsiConsole.MarkupLine("[red]" + Markup.Escape(e.Message) + "[/]");
            return 3;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
