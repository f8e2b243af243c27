namespace VulkanCnn.Viewer.Classifiers;

/// <summary>One class and its probability.</summary>
public readonly record struct ClassScore(string Label, float Probability);

/// <summary>A finished classification: the top classes, which frame it saw, and how long it took (wall time,
/// from the frame's upload to the result on the host).</summary>
public sealed record Prediction(IReadOnlyList<ClassScore> Top, long FrameIndex, double LatencyMilliseconds)
{
    /// <summary>The <paramref name="k"/> best classes of <paramref name="scores"/>; logits go through a softmax unless
    /// they already form a probability distribution.</summary>
    public static Prediction FromScores(ReadOnlySpan<float> scores, IReadOnlyList<string> labels, int k, long frameIndex, double latencyMs)
    {
        var p = Probabilities(scores);
        var top = Enumerable.Range(0, p.Length).OrderByDescending(i => p[i]).ThenBy(i => i).Take(k)
            .Select(i => new ClassScore(i < labels.Count ? labels[i] : $"class {i}", p[i])).ToList();
        return new Prediction(top, frameIndex, latencyMs);
    }

    public static float[] Probabilities(ReadOnlySpan<float> scores)
    {
        bool distribution = true;
        double sum = 0;
        foreach (var s in scores) { if (s < 0 || s > 1) distribution = false; sum += s; }
        if (distribution && Math.Abs(sum - 1) < 1e-3) return scores.ToArray();
        float max = float.NegativeInfinity;
        foreach (var s in scores) max = Math.Max(max, s);
        var result = new float[scores.Length];
        double total = 0;
        for (int i = 0; i < scores.Length; i++) total += result[i] = (float)Math.Exp(scores[i] - max);
        for (int i = 0; i < result.Length; i++) result[i] = (float)(result[i] / total);
        return result;
    }
}

/// <summary>
/// A classifier driven by the viewer's frame loop. <see cref="Tick"/> runs once per display frame and must
/// return within a few milliseconds: long networks run a slice per tick (frame-budget execution).
/// </summary>
public interface ILiveClassifier : IDisposable
{
    /// <summary>Shown as the overlay's title.</summary>
    string Title { get; }
    /// <summary>On-screen hints (keys).</summary>
    IReadOnlyList<string> Hints { get; }
    /// <summary>Extra status lines (samples captured, running accuracy, …).</summary>
    IReadOnlyList<string> Status { get; }
    /// <summary>The newest result, or null before the first.</summary>
    Prediction? Latest { get; }
    /// <summary>Results completed so far.</summary>
    int Completed { get; }

    /// <summary>Advances the classifier; <paramref name="newFrameIndex"/> is set when a new frame was uploaded to the
    /// shared frame buffer since the last tick.</summary>
    void Tick(long? newFrameIndex);

    /// <summary>A key press (GLFW key code); returns a message to show, or null when the key means nothing here.</summary>
    string? OnKey(int key) => null;

    /// <summary>A line worth logging that appeared since the last call (e.g. a new head is ready), or null.</summary>
    string? TakeNotice() => null;
}
