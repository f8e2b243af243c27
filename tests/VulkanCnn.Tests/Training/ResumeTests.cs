using System.Diagnostics;
using VulkanCnn.Nn;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Training;

namespace VulkanCnn.Tests.Training;

/// <summary>A `vkcnn train` child killed with SIGKILL and resumed ends bitwise identical to an uninterrupted run.</summary>
[Collection(GpuCollection.Name)]
public sealed class ResumeTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vkcnn-resume-" + Guid.NewGuid().ToString("N"));

    public ResumeTests() => Directory.CreateDirectory(_dir);

    private static ProcessStartInfo Train(string output, string? resume) => Vkcnn.StartInfo(
        [ "train", "--model", "small-cnn", "--epochs", "2", "--batch", "32", "--lr", "0.05", "--limit", "192",
          "--test-limit", "64", "--seed", "3", "--checkpoint-every", "1", "--out", output, .. resume is null ? []
              : new[] { "--resume", resume } ],
        display: null);

    private static void RunToEnd(ProcessStartInfo info)
    {
        using var p = Process.Start(info)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(5)), "training did not finish");
        Assert.True(p.ExitCode == 0, stdout + stderr.Result);
    }

    [Fact]
    public void Killed_and_resumed_training_ends_bitwise_identical()
    {
        string a = Path.Combine(_dir, "a.safetensors"), b = Path.Combine(_dir, "b.safetensors");
        RunToEnd(Train(a, null));

        using (var victim = Process.Start(Train(b, null))!)
        {
            _ = victim.StandardOutput.ReadToEndAsync();
            _ = victim.StandardError.ReadToEndAsync();
            var clock = Stopwatch.StartNew();
            // Kill it mid-run: once a checkpoint past the first batches of epoch 1 exists.
            while (clock.Elapsed < TimeSpan.FromMinutes(3))
            {
                if (File.Exists(b) && TryInfo(b) is { } info && (info.Epoch > 0 || info.Batch >= 3)) break;
                Thread.Sleep(20);
            }
            victim.Kill(entireProcessTree: true); // SIGKILL on Linux
            victim.WaitForExit();
        }
        var atKill = TryInfo(b);
        Assert.NotNull(atKill);
        Assert.True(atKill!.Epoch < 2, "the run finished before it could be killed");

        RunToEnd(Train(b, b));

        var (ta, _) = Safetensors.Load(a);
        var (tb, _) = Safetensors.Load(b);
        Assert.Equal(ta.Keys.Order(), tb.Keys.Order());
        foreach (var (name, (shape, data)) in ta)
        {
            Assert.Equal(shape, tb[name].Shape);
            Assert.True(data.AsSpan().SequenceEqual(tb[name].Data), $"tensor '{name}' differs after the resume");
        }
        Assert.Contains(ta.Keys, k => k.StartsWith("optimizer.", StringComparison.Ordinal));
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    [Fact]
    public async Task Sigterm_saves_a_checkpoint_at_the_current_batch_and_exits_130()
    {
        if (!OperatingSystem.IsLinux()) return;
        string c = Path.Combine(_dir, "c.safetensors");
        var info = Train(c, null);
        info.ArgumentList[info.ArgumentList.IndexOf("--checkpoint-every") + 1] = "0"; // only the signal writes mid-epoch
        info.ArgumentList[info.ArgumentList.IndexOf("--limit") + 1] = "4096";
        info.ArgumentList[info.ArgumentList.IndexOf("--epochs") + 1] = "1000";        // still running at the signal, even on a fast GPU
        using var p = Process.Start(info)!;
        try
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            await Task.Delay(TimeSpan.FromSeconds(4)); // past device creation and the first steps, long before 1000 epochs end
            Assert.Equal(0, kill(p.Id, 15));
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "the process did not stop after SIGTERM");
            Assert.Equal(130, p.ExitCode);
            Assert.Contains("checkpoint saved", await stdout);
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true); // never leave a 1000-epoch run behind
        }
        var saved = TryInfo(c);
        Assert.NotNull(saved);
        Assert.True(saved!.Batch > 0, $"saved at epoch {saved.Epoch}, batch {saved.Batch}: not mid-epoch");
    }

    private static CheckpointInfo? TryInfo(string path)
    {
        try { return Checkpoint.ReadInfo(path); }
        catch (Exception e) when (e is IOException or SafetensorsException) { return null; }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
