namespace VulkanCnn.Tests.Ops;

/// <summary>NumPy broadcasting on the CPU, in double, for the pointwise operator tests.</summary>
internal static class BroadcastReference
{
    public static int[] Shape(params int[][] shapes)
    {
        int rank = shapes.Max(s => s.Length);
        var r = new int[rank];
        for (int d = 0; d < rank; d++)
            r[d] = shapes.Max(s => d < rank - s.Length ? 1 : s[d - (rank - s.Length)]);
        return r;
    }

    /// <summary>Output[i] = f(values of every input at the broadcast position of i).</summary>
    public static float[] Map(int[] output, Func<double[], double> f, params (int[] Shape, float[] Data)[] inputs)
    {
        long count = output.Aggregate(1L, (a, b) => a * b);
        var result = new float[count];
        var coord = new int[output.Length];
        var args = new double[inputs.Length];
        for (long i = 0; i < count; i++)
        {
            long rest = i;
            for (int d = output.Length - 1; d >= 0; d--) { coord[d] = (int)(rest % output[d]); rest /= output[d]; }
            for (int k = 0; k < inputs.Length; k++)
            {
                var s = inputs[k].Shape;
                long offset = 0;
                for (int d = 0; d < s.Length; d++)
                {
                    int c = s[d] == 1 ? 0 : coord[d + output.Length - s.Length];
                    offset = offset * s[d] + c;
                }
                args[k] = inputs[k].Data[offset];
            }
            result[i] = (float)f(args);
        }
        return result;
    }
}
