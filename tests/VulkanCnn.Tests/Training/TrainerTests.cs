using VulkanCnn.Models;
using VulkanCnn.Nn;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Training;
using VulkanCnn.Training.Data;

namespace VulkanCnn.Tests.Training;

/// <summary>The whole training step: gradients of a full network, a short real training run, and bad input.</summary>
public sealed class TrainerTests(GpuFixture gpu) : GpuTest(gpu)
{
    private static Sequential TinyNet() => new(
        Layers.Conv2d(1, 4, 3, padding: 1), Layers.BatchNorm2d(4), Layers.ReLU(), Layers.MaxPool2d(2),
        Layers.Conv2d(4, 6, 3, stride: 2, padding: 1), Layers.ReLU(), Layers.Flatten(), Layers.Linear(6 * 2 * 2, 3));

    [Fact]
    public void Whole_network_gradients_match_finite_differences_of_the_loss()
    {
        Init.ManualSeed(3);
        var model = TinyNet();
        var x = Reference.Random(2 * 64, 1);
        float[] labels = [2, 0];
        using var trainer = new Trainer(Device, model, [2, 1, 8, 8], p => new Sgd(Device, p, learningRate: 1e-30));
        // Both Relus run fused (into the BatchNorm and the second Conv), so this checks the fused backward.
        Assert.DoesNotContain(trainer.Graph.Nodes, n => n.OpType == "Relu");
        trainer.Step(x, labels, 0); // lr 0: parameters stay, gradients are left in place
        var state = model.StateDict();
        var rng = new Random(5);
        int checkedCount = 0;
        foreach (var name in new[] { "0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "7.weight", "7.bias" })
        {
            var grad = trainer.Gradients[name].ToArray();
            var param = trainer.Parameters[name];
            var values = param.ToArray();
            for (int probe = 0; probe < 3; probe++)
            {
                int i = rng.Next(values.Length);
                const float eps = 1e-2f;
                float original = values[i];
                values[i] = original + eps; param.Upload(values);
                double plus = trainer.Step(x, labels, 0).Loss;
                values[i] = original - eps; param.Upload(values);
                double minus = trainer.Step(x, labels, 0).Loss;
                values[i] = original; param.Upload(values);
                double numeric = (plus - minus) / (2 * eps);
                // float32 forward: the difference quotient carries ~1e-5 of noise; kinks are possible but rare at random points.
                Assert.True(Math.Abs(numeric - grad[i]) <= 2e-3 + 2e-2 * Math.Abs(numeric),
                    $"{name}[{i}]: backward {grad[i]:E4}, finite difference {numeric:E4}");
                checkedCount++;
            }
        }
        Assert.Equal(21, checkedCount);
        Assert.Equal(state.Count, trainer.Parameters.Count);
    }

    [Fact]
    public void Profile_times_every_layers_forward_and_backward_without_changing_the_step()
    {
        var x = Reference.Random(2 * 64, 4);
        float[] labels = [1, 2];
        float Losses(TrainerOptions options, out Trainer trainer)
        {
            Init.ManualSeed(8);
            trainer = new Trainer(Device, TinyNet(), [2, 1, 8, 8], p => new Sgd(Device, p, 0.1, momentum: 0.9), options);
            trainer.Step(x, labels, 0.1);
            return trainer.Step(x, labels, 0.1).Loss;
        }

        float plain = Losses(new TrainerOptions(), out var plainTrainer);
        using (plainTrainer)
            Assert.Throws<InvalidOperationException>(() => plainTrainer.LastStepProfile());
        float profiled = Losses(new TrainerOptions { Profile = true }, out var trainer);
        using (trainer)
        {
            Assert.Equal(plain, profiled); // timestamps only: the same computation, bit for bit
            var report = trainer.LastStepProfile();
            var names = report.Layers.Select(l => l.Name).ToList();
            foreach (var node in trainer.Graph.Nodes) Assert.Contains(node.Name, names);
            Assert.Contains(trainer.Graph.Nodes.First(n => n.OpType == "Conv").Name + " (backward)", names);
            Assert.Equal("optimizer", names[^1]);
            Assert.All(report.Layers, l => Assert.True(l.Milliseconds >= 0, l.Name));
            Assert.Equal(report.Layers.Sum(l => l.Milliseconds), report.TotalMilliseconds, 9);
            Assert.True(report.TotalMilliseconds > 0);
            Assert.Contains(report.Layers, l => l.OpType == "Conv" && l.GflopPerSecond > 0);
        }
    }

    [Fact]
    public async Task A_short_seeded_run_on_1000_fashion_mnist_images_learns()
    {
        var train = FashionMnist.Load(train: true, limit: 1024);
        var test = FashionMnist.Load(train: false, limit: 500);
        string path = Path.Combine(Path.GetTempPath(), $"vkcnn-train-{Guid.NewGuid():N}.safetensors");
        try
        {
            using var run = new TrainingRun(Device, train, test, new TrainingRunOptions
            {
                Model = "small-cnn",
                Epochs = 4,
                BatchSize = 32,
                LearningRate = 0.05,
                Optimizer = "sgd",
                Seed = 1,
                CheckpointEveryBatches = 0,
            }, path);
            var epochs = await run.RunAsync();
            Assert.Equal(4, epochs.Count);
            Assert.True(epochs[^1].TrainLoss < epochs[0].TrainLoss, $"loss {epochs[0].TrainLoss:0.000} → {epochs[^1].TrainLoss:0.000}");
            Assert.True(epochs[^1].TestAccuracy >= 0.65,
                $"test accuracy {epochs[^1].TestAccuracy:P1} after 4 epochs on 1024 images (chance: 10%)");
            var info = Checkpoint.ReadInfo(path);
            Assert.Equal(4, info.Epoch);
            Assert.Equal(FashionMnist.Labels, info.Labels);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void A_trained_network_exported_to_onnx_is_reproduced_by_onnx_runtime()
    {
        Init.ManualSeed(6);
        var model = TinyNet();
        var x = Reference.Random(4 * 64, 7);
        using (var trainer = new Trainer(Device, model, [4, 1, 8, 8], p => new Sgd(Device, p, 0.1, momentum: 0.9)))
        {
            for (int i = 0; i < 5; i++) trainer.Step(x, [0, 1, 2, 1], 0.1);
            trainer.CopyParametersToModule();
        }
        string path = Path.Combine(Path.GetTempPath(), $"vkcnn-trained-{Guid.NewGuid():N}.onnx");
        try
        {
            var graph = model.ToGraph([4, 1, 8, 8]);
            VulkanCnn.Onnx.OnnxExporter.Save(graph, path);
            using var session = Device.Compile(model, [4, 1, 8, 8]);
            var ours = session.Run(x);
            using var ort = new OrtRunner(path);
            var theirs = ort.RunSingle(new NamedTensor(x, [4, 1, 8, 8]));
            Tolerance.AssertClose(theirs.Data, ours, Tolerance.Network);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Frozen_parameters_do_not_move_and_get_no_gradient_buffers()
    {
        Init.ManualSeed(8);
        var model = TinyNet();
        var backbone = (Module)model.Modules[0];
        backbone.Freeze();
        float[] frozenBefore = (float[])model.StateDict()["0.weight"].Data.Clone();
        float[] headBefore = (float[])model.StateDict()["7.weight"].Data.Clone();
        var x = Reference.Random(2 * 64, 9);
        using (var trainer = new Trainer(Device, model, [2, 1, 8, 8], p => new Adam(Device, p, 1e-2)))
        {
            Assert.DoesNotContain(trainer.Optimizer.Parameters, p => p.Name == "0.weight");
            Assert.False(trainer.Gradients.ContainsKey("0.weight"));
            for (int i = 0; i < 3; i++) trainer.Step(x, [1, 2], 1e-2);
            trainer.CopyParametersToModule();
        }
        Assert.Equal(frozenBefore, model.StateDict()["0.weight"].Data);
        Assert.NotEqual(headBefore, model.StateDict()["7.weight"].Data);
    }

    [Fact]
    public void The_built_in_models_train_a_step_and_lower_the_loss_on_a_repeated_batch()
    {
        var data = FashionMnist.Load(train: false, limit: 8);
        var images = new float[8 * 784];
        var labels = new float[8];
        for (int i = 0; i < 8; i++) labels[i] = data.Read(i, images.AsSpan(i * 784, 784));
        foreach (var name in SmallModels.Names)
        {
            Init.ManualSeed(12);
            using var trainer = new Trainer(Device, SmallModels.Create(name), [8, 1, 28, 28], p => new Adam(Device, p, 1e-3));
            float first = trainer.Step(images, labels, 1e-3).Loss;
            float later = first;
            for (int i = 0; i < 5; i++) later = trainer.Step(images, labels, 1e-3).Loss;
            Assert.True(later < first, $"{name}: loss {first} → {later}");
        }
    }

    [Fact]
    public void Labels_out_of_range_are_refused_before_the_step()
    {
        Init.ManualSeed(4);
        using var trainer = new Trainer(Device, TinyNet(), [2, 1, 8, 8], p => new Sgd(Device, p, 0.1));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Step(new float[128], [1, 3], 0.1));
        Assert.Contains("Label 3", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Step(new float[128], [-1, 0], 0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Step(new float[128], [0.5f, 0], 0.1));
    }

    [Fact]
    public async Task A_diverging_run_stops_with_a_clear_error_and_keeps_the_last_good_checkpoint()
    {
        var train = FashionMnist.Load(train: true, limit: 256);
        string path = Path.Combine(Path.GetTempPath(), $"vkcnn-nan-{Guid.NewGuid():N}.safetensors");
        try
        {
            var options = new TrainingRunOptions
            {
                Model = "small-cnn",
                Epochs = 2,
                BatchSize = 32,
                LearningRate = 0.05,
                Seed = 2,
                CheckpointEveryBatches = 0
            };
            using (var good = new TrainingRun(Device, train, null, options with { Epochs = 1 }, path)) await good.RunAsync();
            byte[] before = File.ReadAllBytes(path);
            using var bad = new TrainingRun(Device, train, null, options with { LearningRate = 1e12, Schedule = "constant" }, path,
                resumeFrom: path);
            var e = await Assert.ThrowsAsync<TrainingDivergedException>(() => bad.RunAsync());
            Assert.Contains("last good checkpoint", e.Message);
            Assert.Equal(before, File.ReadAllBytes(path));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public async Task A_run_started_from_a_checkpoint_begins_with_its_weights_and_a_fresh_schedule()
    {
        var train = FashionMnist.Load(train: true, limit: 128);
        string first = Path.Combine(Path.GetTempPath(), $"vkcnn-init-a-{Guid.NewGuid():N}.safetensors");
        string second = Path.ChangeExtension(first, ".b.safetensors");
        try
        {
            var options = new TrainingRunOptions
            {
                Model = "small-cnn",
                Epochs = 1,
                BatchSize = 32,
                LearningRate = 0.05,
                Seed = 4,
                CheckpointEveryBatches = 0
            };
            using (var a = new TrainingRun(Device, train, null, options, first)) await a.RunAsync();
            var saved = VulkanCnn.Nn.Safetensors.Load(first).Tensors;
            using var b = new TrainingRun(Device, train, null, options with { InitFrom = first, Seed = 5 }, second);
            foreach (var (name, p) in b.Model.StateDict())
                Assert.Equal(saved[name].Data, p.Data); // not the fresh initialisation of seed 5
            await b.RunAsync();
            var info = Checkpoint.ReadInfo(second);
            Assert.Equal(Path.GetFileName(first), info.Settings["init_from"]);
            Assert.Equal(1, info.Epoch); // its own epoch count, not a continuation of the first run
            var wrong = options with { Model = "small-resnet", InitFrom = first };
            Assert.ThrowsAny<Exception>(() => new TrainingRun(Device, train, null, wrong, Path.ChangeExtension(first, ".c.safetensors")));
        }
        finally
        {
            foreach (var f in new[] { first, second }) File.Delete(f);
        }
    }
}

