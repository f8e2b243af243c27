using System.Runtime.InteropServices;
using VulkanCnn.Graph;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// Resize and Upsample, modes nearest and linear over the last two axes (H, W) (shader
/// <c>resize</c>). Resize-10 takes (X, scales); Resize-11+ takes (X, roi, scales, sizes) with
/// '' for omitted inputs, the coordinate_transformation_mode and nearest_mode attributes, and
/// (opset 18) axes and keep_aspect_ratio_policy. Upsample takes scales as an attribute (opset 7)
/// or input (opset 9). Resize-10 and Upsample map coordinates asymmetrically and, in nearest
/// mode, take floor when upscaling and ceil when downscaling (the pre-opset-11 behaviour of
/// ONNX Runtime). The source coordinates are tabulated here once, in double precision.
/// </summary>
public sealed class Resize : IOperator
{
    public IReadOnlyList<string> OpTypes { get; } = ["Resize", "Upsample"];

    public OperatorTraits Traits(Node node) => OperatorTraits.None;

    private enum Coordinates { HalfPixel, PytorchHalfPixel, AlignCorners, Asymmetric, TfHalfPixelForNn, HalfPixelSymmetric }

    private enum Rounding { RoundPreferFloor, RoundPreferCeil, Floor, Ceil, Legacy }

    private sealed record Plan(int[] OutDims, double[] Scales, bool Linear, Coordinates Coordinates, Rounding Rounding);

    public IReadOnlyList<TensorShape> InferShapes(OpContext c) => [new TensorShape(Resolve(c).OutDims)];

    public void Build(OpBuildContext c)
    {
        var plan = Resolve(c);
        var x = c.InputShape(0);
        int rank = x.Rank;
        int inH = rank >= 2 ? x[rank - 2] : 1, inW = x[rank - 1];
        int outH = rank >= 2 ? plan.OutDims[rank - 2] : 1, outW = plan.OutDims[rank - 1];
        double scaleH = rank >= 2 ? plan.Scales[rank - 2] : 1, scaleW = plan.Scales[rank - 1];

        var table = new float[(outH + outW) * 3];
        Tabulate(plan, inH, outH, scaleH, table.AsSpan(0, outH * 3));
        Tabulate(plan, inW, outW, scaleW, table.AsSpan(outH * 3));
        var tableTensor = c.Weight("coordinates", [table.Length], table);

        long count = c.OutputShape(0).ElementCount;
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new KernelDescription("resize", 3, 20, local) { Constants = [plan.Linear ? 1u : 0u] });
        ReadOnlySpan<uint> push = [checked((uint)count), (uint)inH, (uint)inW, (uint)outH, (uint)outW];
        c.Dispatch(pipeline, [c.Input(0), tableTensor, c.Output(0)], c.Grid1D(count, local), MemoryMarshal.AsBytes(push));
    }

    /// <summary>Per output index along one axis: (source index 0, source index 1, weight of index 1).</summary>
    private static void Tabulate(Plan plan, int length, int outLength, double scale, Span<float> table)
    {
        for (int o = 0; o < outLength; o++)
        {
            double src = plan.Coordinates switch
            {
                Coordinates.HalfPixel => (o + 0.5) / scale - 0.5,
                Coordinates.PytorchHalfPixel => outLength > 1 ? (o + 0.5) / scale - 0.5 : 0,
                // As ONNX Runtime and PyTorch: the rounded output length. (The ONNX reference divides by
                // length·scale − 1 when scales are given, onnx/onnx#2462; one conformance case differs.)
                Coordinates.AlignCorners => outLength == 1 ? 0 : o * (length - 1) / (double)(outLength - 1),
                Coordinates.Asymmetric => o / scale,
                Coordinates.TfHalfPixelForNn => (o + 0.5) / scale,
                _ => length / 2.0 * (1 - outLength / (scale * length)) + (o + 0.5) / scale - 0.5,
            };
            double i0, i1 = 0, weight = 0;
            if (plan.Linear)
            {
                i0 = Math.Floor(src);
                weight = src - i0;
                i1 = i0 + 1;
            }
            else
            {
                i0 = plan.Rounding switch
                {
                    Rounding.RoundPreferFloor => Math.Ceiling(src - 0.5),
                    Rounding.RoundPreferCeil => Math.Floor(src + 0.5),
                    Rounding.Floor => Math.Floor(src),
                    Rounding.Ceil => Math.Ceiling(src),
                    _ => scale < 1 ? Math.Ceiling(src) : Math.Floor(src),
                };
            }
            table[o * 3] = (float)Math.Clamp(i0, 0, length - 1);
            table[o * 3 + 1] = (float)Math.Clamp(i1, 0, length - 1);
            table[o * 3 + 2] = (float)weight;
        }
    }

    private static Plan Resolve(OpContext c)
    {
        var x = c.InputShape(0);
        int rank = x.Rank;
        bool legacy = c.Node.OpType == "Upsample" || c.InputCount == 2; // Upsample, or Resize-10 (X, scales)
        string mode = c.String("mode") ?? "nearest";
        bool linear = mode switch
        {
            "nearest" => false,
            "linear" => true,
            "bilinear" when c.Node.OpType == "Upsample" => true, // Upsample-1's name for linear
            "cubic" => throw c.Unsupported("mode 'cubic' is not supported (nearest and linear are)"),
            _ => throw c.Error($"mode '{mode}' is not a {c.Node.OpType} mode"),
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
                "tf_crop_and_resize" => throw c.Unsupported("coordinate_transformation_mode 'tf_crop_and_resize' is not supported"),
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
        for (int d = 0; d < rank - 2; d++)
            if (outDims[d] != x[d] || scales[d] != 1)
                throw c.Unsupported($"resizing axis {d} of input {x} (to {outDims[d]}); only the last two axes (H, W) can be resized");
        for (int d = 0; d < rank; d++)
        {
            if (outDims[d] <= 0)
                throw c.Unsupported($"the output [{string.Join(", ", outDims)}] of input {x} is empty; empty tensors are not supported");
            if (!(scales[d] > 0) || double.IsInfinity(scales[d]))
                throw c.Error($"scale {scales[d]} for axis {d} of input {x} must be positive");
        }
        return new Plan(outDims, scales, linear, coordinates, rounding);
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
