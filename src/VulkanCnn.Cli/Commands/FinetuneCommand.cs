using Spectre.Console;
using System.CommandLine;
using VulkanCnn.Compiler;
using VulkanCnn.Imaging;
using VulkanCnn.Ir;
using VulkanCnn.Nn;
using VulkanCnn.Training;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Cli.Commands;

/// <summary>
/// Teach by showing, offline: <c>vkcnn finetune --data DIR/{classA,classB,…}/*.jpg --out head.safetensors</c>
/// trains a linear head on pretrained ResNet18 features; <c>vkcnn classify --head head.safetensors IMAGE…</c> uses it.
/// </summary>
internal static class FinetuneCommand
{
    private static readonly Option<string?> BackboneOption = new("--backbone")
    {
        Description = "ResNet18.onnx (default: VKCNN_RESNET18 " +
        "or the NuGet cache)."
    };

    public static Command Create()
    {
        var data = new Option<DirectoryInfo>("--data") { Description = "One subfolder of images per class.", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "Where to write the head (.safetensors).", Required = true };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 200 };
        var model = new Option<string?>("--model")
        {
            Description = "Fine-tune this .onnx network end to end (with --unfreeze) instead of a linear head over ResNet18 features; " +
                "--out is then a training checkpoint (.safetensors, the ONNX export beside it).",
        };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 3 };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 32 };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 0.01 };
        var size = new Option<int>("--size") { Description = "Image side the network sees.", DefaultValueFactory = _ => 64 };
        var augmentPad = new Option<int>("--augment-pad") { DefaultValueFactory = _ => 0 };
        var flip = new Option<bool>("--flip");
        var resume = new Option<string?>("--resume") { Description = "Continue from this checkpoint (with --model)." };
        var command = new Command("finetune", "Train a classifier head on pretrained ResNet18 features from a folder of labelled images, " +
            "or fine-tune an .onnx network end to end (--model).")
        {
            data, output, steps, BackboneOption, model, epochs, batch, lr, size, augmentPad, flip, resume, TrainCommand.FeaturesOption,
            TrainCommand.UnfreezeOption, TrainCommand.PreprocessOption, TrainCommand.BackboneLrOption,
            TrainCommand.FreezeBnOption,
        };
        command.SetAction(async (result, ct) =>
        {
            var root = result.GetValue(data)!;
            if (!root.Exists) throw new DirectoryNotFoundException($"--data folder '{root.FullName}' does not exist.");
            if (result.GetValue(model) is { } onnx)
            {
                var options = new TrainingRunOptions
                {
                    Model = onnx,
                    Epochs = result.GetValue(epochs),
                    BatchSize = result.GetValue(batch),
                    LearningRate = result.GetValue(lr),
                    AugmentPadding = result.GetValue(augmentPad),
                    HorizontalFlip = result.GetValue(flip),
                };
                string? resumeFrom = result.GetValue(resume);
                if (resumeFrom is not null) options = TrainingRunOptions.FromCheckpoint(Checkpoint.ReadInfo(resumeFrom));
                options = TrainCommand.WithBackbone(options, result, resumed: resumeFrom is not null);
                var (train, test) = TrainCommand.LoadData(root.FullName, options.Limit, null, result.GetValue(size), grayscale: false,
                    result.GetValue(TrainCommand.PreprocessOption)!);
                return await TrainCommand.Run(GlobalOptions.DeviceOptions(result), train, test, options, result.GetValue(output)!.FullName,
                    resumeFrom, ct);
            }
            var classes = root.GetDirectories().Where(d => !d.Name.StartsWith('.')).OrderBy(d => d.Name, StringComparer.Ordinal).ToList();
            if (classes.Count < 2) throw new ArgumentException($"--data '{root.FullName}' needs at least two class subfolders.");
            using var gpu = GpuDevice.Create(GlobalOptions.DeviceOptions(result));
            using var backbone = new Backbone(gpu, result.GetValue(BackboneOption));
            var features = new List<float[]>();
            var labels = new List<int>();
            for (int c = 0; c < classes.Count; c++)
                foreach (var file in classes[c].EnumerateFiles().Where(f =>
                    f.Extension.ToLowerInvariant() is ".jpg" or ".jpeg" or ".png" or ".bmp").OrderBy(f => f.Name, StringComparer.Ordinal))
                {
                    features.Add(backbone.Extract(file.FullName));
                    labels.Add(c);
                }
            var empty = classes.Where((_, c) => !labels.Contains(c)).Select(d => d.Name).ToList();
            if (empty.Count > 0) throw new ArgumentException($"Class folder(s) without images: {string.Join(", ", empty)}.");
            Init.ManualSeed(0);
            var head = LinearHead.Create(Backbone.Features, classes.Count);
            double accuracy = LinearHead.Train(gpu, head, features.ToArray(), labels.ToArray(), result.GetValue(steps));
            LinearHead.Save(head, result.GetValue(output)!.FullName, classes.Select(c => c.Name).ToList(), Backbone.Description);
            AnsiConsole.MarkupLine($"Trained a head for {classes.Count} classes on {features.Count} images (training accuracy " +
                $"{accuracy:P0}): {Markup.Escape(result.GetValue(output)!.FullName)}");
            return 0;
        });
        return command;
    }

    public static Command CreateClassify()
    {
        var headPath = new Option<FileInfo>("--head") { Description = "A head written by vkcnn finetune.", Required = true };
        var images = new Argument<FileInfo[]>("images") { Description = "Images to classify.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("classify", "Classify images with a finetuned head on ResNet18 features.") { headPath, images,
            BackboneOption };
        command.SetAction(result =>
        {
            var (head, labels) = LinearHead.Load(result.GetValue(headPath)!.FullName, Backbone.Features);
            using var gpu = GpuDevice.Create(GlobalOptions.DeviceOptions(result));
            using var backbone = new Backbone(gpu, result.GetValue(BackboneOption));
            using var classifier = gpu.Compile(head, [1, Backbone.Features]);
            foreach (var image in result.GetValue(images)!)
            {
                var logits = classifier.Run(backbone.Extract(image.FullName));
                double max = logits.Max();
                var p = logits.Select(v => Math.Exp(v - max)).ToArray();
                double sum = p.Sum();
                int best = Array.IndexOf(logits, logits.Max());
                AnsiConsole.MarkupLine($"{Markup.Escape(image.Name)}: [bold]{Markup.Escape(labels[best])}[/] {p[best] / sum:P1}");
            }
            return 0;
        });
        return command;
    }
}
