namespace VulkanCnn.Imaging;

/// <summary>
/// One axis of a separable bilinear resize: for each output index, the first source index and the
/// normalised triangle-filter weights of the source pixels that contribute. Pixel centers sit at
/// <c>i + 0.5</c>; source pixels outside the image are dropped and the rest renormalised, which
/// clamps to the edge. With antialiasing the triangle is widened by the shrink factor.
/// </summary>
internal sealed class BilinearTaps
{
    public BilinearTaps(int inSize, int outSize, int firstOut, int outCount, bool antialias)
    {
        double scale = (double)inSize / outSize;
        double filterScale = antialias ? Math.Max(scale, 1.0) : 1.0;
        Start = new int[outCount];
        Count = new int[outCount];
        var weights = new List<float>[outCount];
        for (int k = 0; k < outCount; k++)
        {
            double center = (firstOut + k + 0.5) * scale;
            int lo = Math.Max(0, (int)Math.Floor(center - filterScale));
            int hi = Math.Min(inSize - 1, (int)Math.Ceiling(center + filterScale));
            var w = new List<float>(hi - lo + 1);
            double total = 0;
            int first = -1;
            for (int j = lo; j <= hi; j++)
            {
                double t = 1.0 - Math.Abs((j + 0.5 - center) / filterScale);
                if (t <= 0) { if (first >= 0) break; continue; }
                if (first < 0) first = j;
                w.Add((float)t);
                total += t;
            }
            // Every output center lies inside the image, so at least one source pixel has weight > 0.
            for (int i = 0; i < w.Count; i++) w[i] = (float)(w[i] / total);
            Start[k] = first;
            Count[k] = w.Count;
            weights[k] = w;
        }
        MaxCount = Count.Length == 0 ? 0 : Count.Max();
        Weights = new float[outCount * MaxCount];
        for (int k = 0; k < outCount; k++) weights[k].CopyTo(Weights, k * MaxCount);
    }

    /// <summary>First contributing source index per output.</summary>
    public int[] Start { get; }

    /// <summary>Number of contributing source indices per output.</summary>
    public int[] Count { get; }

    /// <summary>Row-major [output, MaxCount] weights, zero-padded.</summary>
    public float[] Weights { get; }

    public int MaxCount { get; }

    /// <summary>The source range [First, End) that any output reads.</summary>
    public (int First, int End) SourceRange()
    {
        int first = int.MaxValue, end = 0;
        for (int k = 0; k < Start.Length; k++)
        {
            first = Math.Min(first, Start[k]);
            end = Math.Max(end, Start[k] + Count[k]);
        }
        return Start.Length == 0 ? (0, 0) : (first, end);
    }
}
