namespace VulkanCnn.Training.Data;

/// <summary>One batch: samples (N·CHW floats) and labels (class indices as floats), reused between batches.</summary>
public sealed class Batch
{
    public Batch(int size, TensorShape sampleShape)
    {
        Size = size;
        Images = new float[size * sampleShape.ElementCount];
        Labels = new float[size];
    }

    public int Size { get; }
    public float[] Images { get; }
    public float[] Labels { get; }
    /// <summary>Position of the batch in the epoch.</summary>
    public int Index { get; internal set; }
}

/// <summary>
/// Seeded shuffling and batching with a background prefetch (the GPU does not wait on decoding).
/// The order of epoch e is a permutation derived from (seed, e) only, so a resumed run sees the
/// same batches. Incomplete last batches are dropped.
/// </summary>
public sealed class BatchLoader
{
    private readonly IDataset _data;

    public BatchLoader(IDataset data, int batchSize, int seed, bool shuffle = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (data.Count < batchSize) throw new ArgumentException($"The dataset has {data.Count} samples, fewer than one batch of " +
            $"{batchSize}.", nameof(batchSize));
        _data = data;
        BatchSize = batchSize;
        Seed = seed;
        Shuffle = shuffle;
    }

    public int BatchSize { get; }
    public int Seed { get; }
    public bool Shuffle { get; }
    public int BatchesPerEpoch => _data.Count / BatchSize;

    /// <summary>The sample order of an epoch: Fisher–Yates with a generator seeded by (seed, epoch).</summary>
    public int[] Order(int epoch)
    {
        var order = Enumerable.Range(0, _data.Count).ToArray();
        if (!Shuffle) return order;
        // Not HashCode.Combine: it is randomised per process, and the order must survive a restart.
        var rng = new Random(MixSeed(Seed, epoch));
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>A fixed 32-bit mix of (seed, epoch) (SplitMix64 finaliser).</summary>
    internal static int MixSeed(int seed, int epoch)
    {
        ulong z = ((ulong)(uint)seed << 32 | (uint)epoch) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & 0x7FFFFFFF);
    }

    /// <summary>The batches of <paramref name="epoch"/> from batch <paramref name="startBatch"/>, filled on a background task one batch
    /// ahead.</summary>
    public async IAsyncEnumerable<Batch> EpochAsync(int epoch, int startBatch = 0,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var order = Order(epoch);
        var buffers = new[] { new Batch(BatchSize, _data.SampleShape), new Batch(BatchSize, _data.SampleShape) };
        int per = (int)_data.SampleShape.ElementCount;
        Task<Batch> Fill(int b) => Task.Run(() =>
        {
            var batch = buffers[b % 2];
            batch.Index = b;
            for (int i = 0; i < BatchSize; i++)
                batch.Labels[i] = _data.Read(order[b * BatchSize + i], batch.Images.AsSpan(i * per, per));
            return batch;
        }, cancellationToken);
        if (startBatch >= BatchesPerEpoch) yield break;
        var next = Fill(startBatch);
        for (int b = startBatch; b < BatchesPerEpoch; b++)
        {
            var current = await next.ConfigureAwait(false);
            // Prefetch the next batch into the other buffer while the caller trains on this one.
            next = b + 1 < BatchesPerEpoch ? Fill(b + 1) : Task.FromResult<Batch>(null!);
            yield return current;
        }
    }
}
