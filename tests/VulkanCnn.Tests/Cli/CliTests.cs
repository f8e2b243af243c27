using System.CommandLine;
using System.Text.Json;
using VulkanCnn.Cli.Commands;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Cli;

/// <summary>The vkcnn commands, invoked in process with their output captured.</summary>
[Collection(GpuCollection.Name)]
public sealed class CliTests
{
    private static (int Code, string Output) Invoke(Command command, params string[] args) => CliInvoker.Invoke(command, args);

    /// <summary>The device the CLI picks without --device: lavapipe on CI.</summary>
    private static DeviceInfo DefaultDevice =>
        DeviceSelector.Choose(GpuDevice.EnumerateDevices(), Environment.GetEnvironmentVariable("VKCNN_DEVICE"));

    [Fact]
    public void Devices_json_lists_the_default_device_with_its_capabilities()
    {
        var (code, output) = Invoke(DevicesCommand.Create(), "devices", "--json");
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        var lavapipe = json.RootElement.EnumerateArray().Single(d => d.GetProperty("Name").GetString() == DefaultDevice.Name);
        Assert.Equal(DefaultDevice.Type.ToString(), lavapipe.GetProperty("Type").GetString());
        Assert.True(lavapipe.GetProperty("Subgroup").GetProperty("Size").GetInt32() > 0);
        Assert.True(lavapipe.GetProperty("Limits").GetProperty("MaxStorageBufferRange").GetInt64() > 0);
        Assert.True(lavapipe.GetProperty("MemoryTypes").GetArrayLength() > 0);
        Assert.Equal(DefaultDevice.CooperativeMatrices.Count, lavapipe.GetProperty("CooperativeMatrices").GetArrayLength());
    }

    [Fact]
    public void Devices_table_marks_the_selected_device()
    {
        var (code, output) = Invoke(DevicesCommand.Create(), "devices");
        Assert.Equal(0, code);
        Assert.Contains(DefaultDevice.Name.Split(' ')[0], output);
        Assert.Contains("(selected)", output);
        Assert.Contains("Subgroup", output);
        Assert.Contains("Cooperative matrices", output);
    }

    [Fact]
    public void Train_on_an_image_folder_writes_checkpoint_metrics_curve_and_confusion_matrix()
    {
        string root = Path.Combine(Path.GetTempPath(), "vkcnn-cli-train-" + Guid.NewGuid().ToString("N"));
        try
        {
            TestImageFolders.Write(root, [("dark", 40), ("light", 210)], perClass: 8, size: 8, seed: 1);
            string output = Path.Combine(root, "model.safetensors");
            var (code, text) = Invoke(TrainCommand.Create(), "train", "--dataset", root, "--image-size", "8", "--epochs", "2", "--batch",
                "4",
                "--lr", "0.05", "--out", output, "--checkpoint-every", "0", "--augment-pad", "1", "--flip", "--profile");
            Assert.True(code == 0, text);
            Assert.Contains("Test accuracy", text);
            Assert.Contains("GPU time of the last training step", text);
            Assert.Contains("(backward)", text);
            foreach (var suffix in new[] { ".safetensors", ".metrics.csv", ".curve.png", ".confusion.csv" })
                Assert.True(File.Exists(Path.Combine(root, "model" + suffix)), suffix);
            Assert.Equal(3, File.ReadAllLines(Path.Combine(root, "model.metrics.csv")).Length);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void Finetune_then_classify_teaches_a_head_on_pretrained_ResNet18_features()
    {
        string root = Path.Combine(Path.GetTempPath(), "vkcnn-teach-" + Guid.NewGuid().ToString("N"));
        try
        {
            string images = Repo.PathOf("tests", "assets", "images");
            Directory.CreateDirectory(Path.Combine(root, "data", "cat"));
            Directory.CreateDirectory(Path.Combine(root, "data", "rocket"));
            File.Copy(Path.Combine(images, "chelsea.png"), Path.Combine(root, "data", "cat", "chelsea.png"));
            File.Copy(Path.Combine(images, "rocket.jpg"), Path.Combine(root, "data", "rocket", "rocket.jpg"));
            string head = Path.Combine(root, "head.safetensors");
            Environment.SetEnvironmentVariable("VKCNN_RESNET18", PretrainedModels.ResNet18Onnx);
            var (code, text) = Invoke(FinetuneCommand.Create(), "finetune", "--data", Path.Combine(root, "data"), "--out", head, "--steps",
                "60");
            Assert.True(code == 0, text);
            Assert.Contains("2 classes on 2 images", text);
            var (code2, text2) = Invoke(FinetuneCommand.CreateClassify(), "classify", "--head", head,
                Path.Combine(images, "chelsea.png"), Path.Combine(images, "rocket.jpg"));
            Assert.True(code2 == 0, text2);
            text2 = System.Text.RegularExpressions.Regex.Replace(text2, "\u001b\\[[0-9;]*m", ""); // bold markup
            Assert.Contains("chelsea.png: cat", text2);
            Assert.Contains("rocket.jpg: rocket", text2);
            // DirectoryNotFoundException
            Assert.NotEqual(0, Invoke(FinetuneCommand.Create(), "finetune", "--data", Path.Combine(root, "none"), "--out", head).Code);
        }
        finally
        {
            Environment.SetEnvironmentVariable("VKCNN_RESNET18", null);
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public void Headless_demo_classifies_the_fashion_mnist_slideshow_and_writes_annotated_frames()
    {
        string dir = Path.Combine(Path.GetTempPath(), "vkcnn-demo-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, output) = Invoke(DemoCommand.Create(), "demo", "--headless", "--frames", "4", "--out", dir, "--validation");
            Assert.True(code == 0, output);
            Assert.Contains("Fashion-MNIST", output);
            Assert.Matches(@"frame #\d+: \w", output);          // predictions printed
            Assert.Matches(@"first result\s*│\s*[\d.]+ s", output); // and the time to the first one
            Assert.Matches(@"device-to-host copies \(display\)\s*│\s*0 ", output);
            var frames = Directory.GetFiles(dir, "frame_*.png").Order().ToList();
            Assert.Equal(4, frames.Count);
            using var image = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(frames[^1]);
            Assert.Equal((640, 480), (image.Width, image.Height));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void View_refuses_bad_arguments_with_messages_naming_them()
    {
        var labels = Assert.Throws<ArgumentException>(() =>
            ViewCommand.Run(new VulkanCnn.Vulkan.GpuDeviceOptions(), new ViewSettings { Model = "m.onnx", Headless = true }));
        Assert.Contains("--labels", labels.Message);
        var keys = Assert.Throws<ArgumentException>(() => ViewSettings.ParseKeys("30:1,abc"));
        Assert.Contains("--keys", keys.Message);
        var resize = Assert.Throws<ArgumentException>(() => ViewSettings.ParseResizes("10:800y600"));
        Assert.Contains("FRAME:WIDTHxHEIGHT", resize.Message);
        Assert.Equal([(30L, (int)'1'), (60L, (int)'S'), (90L, 256)], ViewSettings.ParseKeys("30:1, 60:s, 90:Esc"));
        var missing = Assert.Throws<FileNotFoundException>(() =>
            ViewCommand.Run(new VulkanCnn.Vulkan.GpuDeviceOptions(),
                new ViewSettings { Checkpoint = "/nonexistent.safetensors", Headless = true }));
        Assert.Contains("/nonexistent.safetensors", missing.Message);
    }

    [Fact]
    public void Smoke_prints_the_device_and_a_checked_result()
    {
        var (code, output) = Invoke(SmokeCommand.Create(), "smoke", "--size", "24", "--validation");
        Assert.True(code == 0, output);
        Assert.Contains(DefaultDevice.Name.Split(' ')[0], output);
        Assert.Contains("OK", output);
        Assert.Contains("GFLOP/s", output);
    }
}
