using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// Resize and Upsample, modes nearest, linear and (Resize-11+) cubic over the last two axes (H, W).
/// Resize-10 takes (X, scales); Resize-11+ takes (X, roi, scales, sizes) with '' for omitted
/// inputs, the coordinate_transformation_mode (tf_crop_and_resize reads roi and
/// extrapolation_value), nearest_mode, cubic_coeff_a and exclude_outside attributes, and
/// (opset 18) axes and keep_aspect_ratio_policy. Nearest and linear run <c>resize</c> (two taps
/// per axis); cubic and tf_crop_and_resize run <c>resize_taps</c> (up to four weighted taps per
/// axis, and a flag for coordinates outside the input). Upsample takes scales as an attribute (opset 7)
/// or input (opset 9). Resize-10 and Upsample map coordinates asymmetrically and, in nearest
/// mode, take floor when upscaling and ceil when downscaling (the pre-opset-11 behaviour of
/// ONNX Runtime). The source coordinates are tabulated here once, in double precision.
/// </summary>
internal sealed class Resize : IOperator
{
    public IReadOnlyList<string> OpTypes { get; } = ["Resize", "Upsample"];

    public OperatorTraits Traits(Node node) => OperatorTraits.Fp16Storage;


    public IReadOnlyList<int>? PerSampleInputs(Node node) => [0];

    private enum Rounding { RoundPreferFloor, RoundPreferCeil, Floor, Ceil, Legacy }

    public const string ScaledAlignCornersAttribute = RuntimeAttributes.ResizeScaledAlignCorners;

    private enum Coordinates
    {
        HalfPixel, PytorchHalfPixel, AlignCorners, Asymmetric, TfHalfPixelForNn, HalfPixelSymmetric,
        TfCropAndResize
    }

    private enum Mode { Nearest, Linear, Cubic }

    /// <summary>Roi: per-axis crop (start, end) in normalised coordinates (tf_crop_and_resize), else null.</summary>
    private sealed record Plan(int[] OutDims, double[] Scales, Mode Mode, Coordinates Coordinates, Rounding Rounding,
        double CubicA, bool ExcludeOutside, double[]? Roi, float Extrapolation, bool ScaledAlignCorners)
    {
        public bool Linear => Mode == Mode.Linear;

        /// <summary>The general tap kernel: cubic, or any mode that can fall outside the input.</summary>
        public bool Taps => Mode == Mode.Cubic || Coordinates == Coordinates.TfCropAndResize;
    }

    public IReadOnlyList<TensorShape> InferShapes(OpContext c) => [new TensorShape(Resolve(c).OutDims)];

    public void Build(OpBuildContext c)
    {
        var plan = Resolve(c);
        var x = c.InputShape(0);
        int rank = x.Rank;
        int inH = rank >= 2 ? x[rank - 2] : 1, inW = x[rank - 1];
        int outH = rank >= 2 ? plan.OutDims[rank - 2] : 1, outW = plan.OutDims[rank - 1];
        double scaleH = rank >= 2 ? plan.Scales[rank - 2] : 1, scaleW = plan.Scales[rank - 1];
        long count = c.OutputShape(0).ElementCount;
        uint local = c.Device.DefaultWorkgroupSize;
        if (plan.Taps)
        {
            int taps = plan.Mode switch { Mode.Nearest => 1, Mode.Linear => 2, _ => 4 }, stride = 2 * taps + 1;
            var taps2 = new float[(outH + outW) * stride];
            TabulateTaps(plan, rank - 2, inH, outH, scaleH, taps, taps2.AsSpan(0, outH * stride));
            TabulateTaps(plan, rank - 1, inW, outW, scaleW, taps, taps2.AsSpan(outH * stride));
            var tapTable = c.Weight("taps", [taps2.Length], taps2, DataType.Float32);
            var tapPipeline = c.Pipeline(new PipelineKey("resize_taps", 3, 24, local) { Constants = [(uint)taps] });
            ReadOnlySpan<uint> tapPush = [checked((uint)count), (uint)inH, (uint)inW, (uint)outH, (uint)outW,
                BitConverter.SingleToUInt32Bits(plan.Extrapolation)];
            c.Dispatch(tapPipeline, [c.Input(0), tapTable, c.Output(0)], c.Grid1D(count, local), MemoryMarshal.AsBytes(tapPush));
            return;
        }

        var input = c.Input(0);
        if (rank == 5 && (plan.OutDims[2] != x[2] || plan.Scales[2] != 1))
        {
            // Separable: the depth axis first, as the (H, W) kernel over [N·C, D, H·W] with H·W kept, then H and W as usual.
            var depth = new float[(plan.OutDims[2] + inH * inW) * 3];
            Tabulate(plan, x[2], plan.OutDims[2], plan.Scales[2], depth.AsSpan(0, plan.OutDims[2] * 3));
            Identity(depth.AsSpan(plan.OutDims[2] * 3));
            var resizedDepth = c.Scratch("depth_resized", [x[0], x[1], plan.OutDims[2], inH, inW]);
            Pass(c, plan, "depth_coordinates", depth, input, resizedDepth, x[2], inH * inW, plan.OutDims[2], inH * inW);
            input = resizedDepth;
        }
        var table = new float[(outH + outW) * 3];
        Tabulate(plan, inH, outH, scaleH, table.AsSpan(0, outH * 3));
        Tabulate(plan, inW, outW, scaleW, table.AsSpan(outH * 3));
        Pass(c, plan, "coordinates", table, input, c.Output(0), inH, inW, outH, outW);
    }

    /// <summary>One <c>resize</c> dispatch over the last two axes of <paramref name="output"/> (planes before them).</summary>
    private static void Pass(OpBuildContext c, Plan plan, string key, float[] table, Tensor input, Tensor output, int inH, int inW,
        int outH, int outW)
    {
        uint local = c.Device.DefaultWorkgroupSize;
        var tableTensor = c.Weight(key, [table.Length], table, DataType.Float32);
        var pipeline = c.Pipeline(new PipelineKey("resize", 3, 20, local) { Constants = [plan.Linear ? 1u : 0u] });
        ReadOnlySpan<uint> push = [checked((uint)output.ElementCount), (uint)inH, (uint)inW, (uint)outH, (uint)outW];
        c.Dispatch(pipeline, [input, tableTensor, output], c.Grid1D(output.ElementCount, local), MemoryMarshal.AsBytes(push));
    }

    /// <summary>An axis kept as it is: each output index reads its own input index.</summary>
    private static void Identity(Span<float> table)
    {
        for (int o = 0; o < table.Length / 3; o++) (table[o * 3], table[o * 3 + 1], table[o * 3 + 2]) = (o, o, 0);
    }

    /// <summary>Per output index along one axis: (source index 0, source index 1, weight of index 1).</summary>
    private static void Tabulate(Plan plan, int length, int outLength, double scale, Span<float> table)
    {
        for (int o = 0; o < outLength; o++)
        {
            double src = Source(plan, (0, 1), o, length, outLength, scale);
            double i0, i1 = 0, weight = 0;
            if (plan.Linear)
            {
                i0 = Math.Floor(src);
                weight = src - i0;
                i1 = i0 + 1;
            }
            else i0 = Round(plan, src, scale);
            table[o * 3] = (float)Math.Clamp(i0, 0, length - 1);
            table[o * 3 + 1] = (float)Math.Clamp(i1, 0, length - 1);
            table[o * 3 + 2] = (float)weight;
        }
    }

    /// <summary>The source coordinate of output index <paramref name="o"/> (<paramref name="roi"/>: the crop, for
    /// tf_crop_and_resize).</summary>
    private static double Source(Plan plan, (double Start, double End) roi, int o, int length, int outLength, double scale) =>
        plan.Coordinates switch
        {
            Coordinates.HalfPixel => (o + 0.5) / scale - 0.5,
            Coordinates.PytorchHalfPixel => outLength > 1 ? (o + 0.5) / scale - 0.5 : 0,
            // As ONNX Runtime and PyTorch: divided by the output length − 1. The ONNX reference uses length_resized =
            // length·scale (onnx/onnx#2462); it differs only for scales whose length·scale is not whole (ScaledAlignCorners).
            Coordinates.AlignCorners => outLength == 1 ? 0
                : o * (length - 1) / ((plan.ScaledAlignCorners ? length * scale : outLength) - 1),
            Coordinates.Asymmetric => o / scale,
            Coordinates.TfHalfPixelForNn => (o + 0.5) / scale,
            Coordinates.TfCropAndResize => (outLength == 1
                ? (roi.End - roi.Start) * (length - 1) / 2.0
                : o * (roi.End - roi.Start) * (length - 1) / (outLength - 1)) + roi.Start * (length - 1),
            _ => length / 2.0 * (1 - outLength / (scale * length)) + (o + 0.5) / scale - 0.5,
        };

    private static double Round(Plan plan, double src, double scale) => plan.Rounding switch
    {
        Rounding.RoundPreferFloor => Math.Ceiling(src - 0.5),
        Rounding.RoundPreferCeil => Math.Floor(src + 0.5),
        Rounding.Floor => Math.Floor(src),
        Rounding.Ceil => Math.Ceiling(src),
        _ => scale < 1 ? Math.Ceiling(src) : Math.Floor(src),
    };

    /// <summary>
    /// Per output index along <paramref name="axis"/>: <paramref name="taps"/> source indices, their
    /// weights and an inside flag (0: the coordinate leaves the input, tf_crop_and_resize's
    /// extrapolation). Cubic follows the ONNX reference: the four neighbours floor(x) − 1 … floor(x) + 2
    /// of the edge-padded input (kept within two of the edges), Keys' kernel with A = cubic_coeff_a,
    /// and with exclude_outside the weights of neighbours outside the input zeroed and renormalised.
    /// </summary>
    private static void TabulateTaps(Plan plan, int axis, int length, int outLength, double scale, int taps, Span<float> table)
    {
        int stride = 2 * taps + 1;
        Span<double> w = stackalloc double[taps];
        Span<long> index = stackalloc long[taps];
        for (int o = 0; o < outLength; o++)
        {
            // Roi pairs per axis; an axis in front of a rank-1 input is a length-1 identity.
            double src = Source(plan, plan.Roi is { } r && axis >= 0 ? (r[2 * axis], r[2 * axis + 1]) : (0, 1), o, length, outLength,
                scale);
            bool inside = plan.Coordinates != Coordinates.TfCropAndResize || (src >= 0 && src <= length - 1);
            if (plan.Mode == Mode.Nearest) { index[0] = (long)Round(plan, src, scale); w[0] = 1; }
            else
            {
                double floor = Math.Floor(src), t = src - floor;
                long first = (long)floor - (taps / 2 - 1);
                first = Math.Clamp(first, -taps / 2, Math.Max(-taps / 2, length + taps / 2 - taps));
                if (plan.Mode == Mode.Linear) { w[0] = 1 - t; w[1] = t; }
                else
                {
                    // Weights of the taps at distances 1 + t, t, 1 − t, 2 − t (t recomputed for a shifted window).
                    double a = plan.CubicA;
                    for (int k = 0; k < 4; k++)
                    {
                        double d = Math.Abs(src - (first + k));
                        w[k] = d <= 1 ? ((a + 2) * d - (a + 3)) * d * d + 1 : d < 2 ? ((a * d - 5 * a) * d + 8 * a) * d - 4 * a : 0;
                    }
                }
                double sum = 0;
                for (int k = 0; k < taps; k++)
                {
                    index[k] = first + k;
                    if (plan.ExcludeOutside && (index[k] < 0 || index[k] >= length)) w[k] = 0;
                    sum += w[k];
                }
                if (plan.ExcludeOutside && sum != 0)
                    for (int k = 0; k < taps; k++) w[k] /= sum;
            }
            for (int k = 0; k < taps; k++)
            {
                table[o * stride + k] = Math.Clamp(index[k], 0, length - 1);
                table[o * stride + taps + k] = (float)w[k];
            }
            table[o * stride + 2 * taps] = inside ? 1 : 0;
        }
    }

    private static Plan Resolve(OpContext c)
    {
        var x = c.InputShape(0);
        int rank = x.Rank;
        bool legacy = c.Node.OpType == "Upsample" || c.InputCount == 2; // Upsample, or Resize-10 (X, scales)
        string mode = c.String("mode") ?? "nearest";
        var kind = mode switch
        {
            "nearest" => Mode.Nearest,
            "linear" => Mode.Linear,
            "bilinear" when c.Node.OpType == "Upsample" => Mode.Linear, // Upsample-1's name for linear
            "cubic" when !legacy => Mode.Cubic,
            _ => throw c.Error($"mode '{mode}' is not a {(legacy ? "Resize-10 or Upsample" : "Resize")} mode"),
        };
        if (c.Int("antialias", 0) != 0) throw c.Unsupported("antialias=1 is not supported");

        var coordinates = Coordinates.Asymmetric;
        var rounding = Rounding.Legacy;
        if (!legacy)
        {
            string ct = c.String("coordinate_transformation_mode") ?? "half_pixel";
            coordinates = ct switch
            {
                "half_pixel" => Coordinates.HalfPixel,
                "pytorch_half_pixel" => Coordinates.PytorchHalfPixel,
                "align_corners" => Coordinates.AlignCorners,
                "asymmetric" => Coordinates.Asymmetric,
                "tf_half_pixel_for_nn" => Coordinates.TfHalfPixelForNn,
                "half_pixel_symmetric" => Coordinates.HalfPixelSymmetric,
                "tf_crop_and_resize" => Coordinates.TfCropAndResize,
                _ => throw c.Error($"coordinate_transformation_mode '{ct}' is not an ONNX mode"),
            };
            string nm = c.String("nearest_mode") ?? "round_prefer_floor";
            rounding = nm switch
            {
                "round_prefer_floor" => Rounding.RoundPreferFloor,
                "round_prefer_ceil" => Rounding.RoundPreferCeil,
                "floor" => Rounding.Floor,
                "ceil" => Rounding.Ceil,
                _ => throw c.Error($"nearest_mode '{nm}' is not an ONNX nearest mode"),
            };
        }

        var (scales, outDims) = Sizes(c, x, legacy);
        // The depth of an NCDHW input resizes too (a separate pass), in the modes without a tap table.
        bool depth = rank == 5 && kind != Mode.Cubic && coordinates != Coordinates.TfCropAndResize;
        for (int d = 0; d < rank - 2; d++)
            if ((outDims[d] != x[d] || scales[d] != 1) && !(depth && d == 2))
                throw c.Unsupported($"resizing axis {d} of input {x} (to {outDims[d]}); only the spatial axes (H, W, and D of an NCDHW " +
                    "input in nearest or linear mode without a crop) can be resized");
        for (int d = 0; d < rank; d++)
        {
            if (outDims[d] <= 0)
                throw c.Unsupported($"the output [{string.Join(", ", outDims)}] of input {x} is empty; empty tensors are not supported");
            if (!(scales[d] > 0) || double.IsInfinity(scales[d]))
                throw c.Error($"scale {scales[d]} for axis {d} of input {x} must be positive");
        }
        double[]? roi = coordinates == Coordinates.TfCropAndResize ? Roi(c, x) : null;
        for (int d = 0; roi is not null && d < rank - 2; d++)
            if (roi[2 * d] != 0 || roi[2 * d + 1] != 1)
                throw c.Unsupported($"roi [{roi[2 * d]}, {roi[2 * d + 1]}] crops axis {d} of input {x}; only the last two axes (H, W) " +
                    $"can be cropped");
        bool exclude = c.Int("exclude_outside", 0) switch
        {
            0 => false,
            1 => true,
            var v =>
            throw c.Error($"exclude_outside must be 0 or 1; got {v}")
        };
        return new Plan(outDims, scales, kind, coordinates, rounding, c.Float("cubic_coeff_a", -0.75f), exclude, roi,
            c.Float("extrapolation_value", 0),
            c.Int(ScaledAlignCornersAttribute, 0) != 0);
    }

    /// <summary>tf_crop_and_resize's roi (input 1: starts, then ends, per axis or per entry of axes) as (start, end) pairs per
    /// axis.</summary>
    private static double[] Roi(OpContext c, TensorShape x)
    {
        if (!c.HasInput(1)) throw c.Error("coordinate_transformation_mode 'tf_crop_and_resize' needs the roi input");
        var values = c.RequireConstant(1, "roi").AsFloats();
        int[] axes = c.Ints("axes") is { } a ? a.Select(v => c.Axis(v, x.Rank, "axes")).ToArray() : Enumerable.Range(0, x.Rank).ToArray();
        if (values.Length != 2 * axes.Length)
            throw c.Error($"roi has {values.Length} values; input {x} needs {2 * axes.Length} (starts, then ends)");
        var roi = new double[2 * x.Rank];
        for (int d = 0; d < x.Rank; d++) roi[2 * d + 1] = 1;
        for (int i = 0; i < axes.Length; i++)
        {
            roi[2 * axes[i]] = values[i];
            roi[2 * axes[i] + 1] = values[axes.Length + i];
        }
        return roi;
    }

    /// <summary>Per-axis scales used by the coordinate transform, and the output dimensions.</summary>
    private static (double[] Scales, int[] OutDims) Sizes(OpContext c, TensorShape x, bool legacy)
    {
        int rank = x.Rank;
        float[]? scales;
        long[]? sizes = null;
        int[] axes = Enumerable.Range(0, rank).ToArray();
        if (c.Node.OpType == "Upsample")
            scales = c.Floats("scales") ?? (c.Node.Attributes.Has("height_scale")
                ? [1, 1, c.Float("height_scale", 1), c.Float("width_scale", 1)]
                : c.RequireConstant(1, "scales").AsFloats());
        else if (legacy)
            scales = c.RequireConstant(1, "scales").AsFloats();
        else
        {
            scales = c.HasInput(2) ? c.RequireConstant(2, "scales").AsFloats() : null;
            sizes = c.HasInput(3) ? c.RequireConstant(3, "sizes").AsInts() : null;
            if ((scales is null) == (sizes is null))
                throw c.Error("exactly one of the inputs 'scales' and 'sizes' must be given");
            if (c.Ints("axes") is { } rawAxes)
            {
                axes = rawAxes.Select(a => c.Axis(a, rank, "axes")).ToArray();
                if (axes.Distinct().Count() != axes.Length) throw c.Error($"axes [{string.Join(", ", rawAxes)}] repeat an axis");
            }
        }

        int given = scales?.Length ?? sizes!.Length;
        if (given != axes.Length)
            throw c.Error($"{(scales is null ? "sizes" : "scales")} has {given} values; input {x} needs {axes.Length}");
        var outScales = Enumerable.Repeat(1.0, rank).ToArray();
        var outDims = x.ToArray();
        if (scales is not null)
        {
            for (int i = 0; i < axes.Length; i++)
            {
                outScales[axes[i]] = scales[i];
                outDims[axes[i]] = (int)Math.Min(int.MaxValue, Math.Floor((double)x[axes[i]] * scales[i]));
            }
            return (outScales, outDims);
        }

        string policy = c.String("keep_aspect_ratio_policy") ?? "stretch";
        double[] ratios = axes.Select((a, i) => (double)sizes![i] / x[a]).ToArray();
        double? common = policy switch
        {
            "stretch" => null,
            "not_larger" => ratios.Min(),
            "not_smaller" => ratios.Max(),
            _ => throw c.Error($"keep_aspect_ratio_policy '{policy}' is not an ONNX policy"),
        };
        for (int i = 0; i < axes.Length; i++)
        {
            int a = axes[i];
            outScales[a] = common ?? ratios[i];
            if (sizes![i] < 0) throw c.Error($"sizes [{string.Join(", ", sizes)}] has a negative size for input {x}");
            outDims[a] = common is { } s ? (int)Math.Round(s * x[a], MidpointRounding.ToEven) : (int)Math.Min(sizes[i], int.MaxValue);
        }
        return (outScales, outDims);
    }
}
