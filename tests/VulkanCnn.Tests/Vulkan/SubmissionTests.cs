using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Vulkan;

/// <summary>Submit/wait, async waits with timeouts and cancellation, timestamps.</summary>
public sealed class SubmissionTests(GpuFixture gpu) : GpuTest(gpu)
{
    [Fact]
    public async Task RunAsync_completes_and_results_are_visible()
    {
        var x = Reference.Random(100, 21);
        using var tx = Tensor.FromData(Device, [100], x);
        using var ty = Tensor.Create(Device, [100]);
        using var relu = TestKernels.Relu(tx, ty);
        using var rec = new CommandRecording(Device, "async");
        relu.Record(rec);
        rec.Finish();
        await rec.RunAsync(TimeSpan.FromSeconds(30));
        Assert.True(rec.IsComplete);
        Reference.AssertClose(Reference.Relu(x), ty.ToArray(), atol: 0, rtol: 0);
    }

    [Fact]
    public async Task Cancelling_an_async_wait_stops_the_wait_not_the_device()
    {
        using var work = new SlowWork(Device);
        using var cts = new CancellationTokenSource();
        var wait = work.Recording.RunAsync(cancellationToken: cts.Token);
        cts.Cancel(); // the slow work takes ~100+ ms on lavapipe; the wait must end now
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);

        // Cancelled before the wait starts, too.
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => work.Recording.WaitAsync(cancellationToken: cancelled.Token));
        work.Recording.Wait(TimeSpan.FromSeconds(60));
        Assert.True(work.Recording.IsComplete);
    }

    [Fact]
    public async Task Waits_time_out_with_a_typed_exception()
    {
        using var work = new SlowWork(Device);
        work.Recording.Submit();
        var sync = Assert.Throws<GpuTimeoutException>(() => work.Recording.Wait(TimeSpan.FromTicks(10)));
        Assert.Contains("slow work", sync.Message);
        await Assert.ThrowsAsync<GpuTimeoutException>(() => work.Recording.WaitAsync(TimeSpan.FromTicks(10)));
        work.Recording.Wait(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void Resubmitting_a_recording_that_is_still_running_is_refused()
    {
        using var work = new SlowWork(Device);
        work.Recording.Submit();
        var e = Assert.Throws<InvalidOperationException>(() => work.Recording.Submit());
        Assert.Contains("still executing", e.Message);
        work.Recording.Wait();
    }

    [Fact]
    public void Recording_rules_are_enforced()
    {
        using var tx = Tensor.Create(Device, [4]);
        using var relu = TestKernels.Relu(tx, tx);
        using var rec = new CommandRecording(Device, "rules");
        Assert.Throws<InvalidOperationException>(() => rec.Submit());
        relu.Record(rec);
        rec.Finish();
        Assert.Throws<InvalidOperationException>(() => relu.Record(rec));
    }

    [Fact]
    public void Timestamps_measure_each_step_in_order()
    {
        using var work = new SlowWork(Device, iterations: 2000);
        using var tx = Tensor.Create(Device, [4096]);
        using var relu = TestKernels.Relu(tx, tx);
        using var rec = new CommandRecording(Device, "timed");
        rec.Timestamp("start");
        relu.Record(rec);
        rec.Timestamp("relu");
        relu.Record(rec);
        rec.Timestamp("relu again");
        rec.Finish();
        rec.Run();
        var samples = rec.ReadTimestamps();
        Assert.Equal(["start", "relu", "relu again"], samples.Select(s => s.Label));
        Assert.Equal(0, samples[0].Milliseconds);
        Assert.True(samples[1].Milliseconds > 0 && samples[2].Milliseconds >= samples[1].Milliseconds);
        Assert.True(samples[2].Milliseconds < 10_000);
    }

    [Fact]
    public async Task Concurrent_submissions_from_several_threads_are_serialised_safely()
    {
        var tasks = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            var x = Reference.Random(256, 30 + t);
            using var tx = Tensor.FromData(Device, [256], x);
            using var ty = Tensor.Create(Device, [256]);
            using var relu = TestKernels.Relu(tx, ty);
            using var rec = new CommandRecording(Device, $"thread {t}");
            relu.Record(rec);
            rec.Finish();
            for (int i = 0; i < 20; i++) rec.Run(TimeSpan.FromSeconds(30));
            Reference.AssertClose(Reference.Relu(x), ty.ToArray(), atol: 0, rtol: 0);
        })).ToArray();
        await Task.WhenAll(tasks);
    }
}
