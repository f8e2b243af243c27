namespace VulkanCnn.Tests.Ops;

/// <summary>Row-major index arithmetic for the naive CPU references of the data-movement tests.</summary>
internal static class NdIndex
{
    public static int[] Strides(IReadOnlyList<int> dims)
    {
        var s = new int[dims.Count];
        int acc = 1;
        for (int d = dims.Count - 1; d >= 0; d--) { s[d] = acc; acc *= dims[d]; }
        return s;
    }

    public static int Count(IReadOnlyList<int> dims) => dims.Aggregate(1, (a, b) => a * b);

    /// <summary>The coordinates of flat index <paramref name="flat"/>.</summary>
    public static int[] Coords(int flat, IReadOnlyList<int> dims)
    {
        var c = new int[dims.Count];
        for (int d = dims.Count - 1; d >= 0; d--) { c[d] = flat % dims[d]; flat /= dims[d]; }
        return c;
    }

    public static int Flat(int[] coords, IReadOnlyList<int> dims)
    {
        int f = 0;
        for (int d = 0; d < dims.Count; d++) f = f * dims[d] + coords[d];
        return f;
    }

    /// <summary>Builds an output of <paramref name="dims"/> by asking <paramref name="value"/> for each coordinate.</summary>
    public static float[] Build(IReadOnlyList<int> dims, Func<int[], float> value)
    {
        var r = new float[Count(dims)];
        for (int i = 0; i < r.Length; i++) r[i] = value(Coords(i, dims));
        return r;
    }
}
