using VulkanCnn.Compiler;
using VulkanCnn.Ir;

namespace VulkanCnn.Onnx;

/// <summary>Resize and Upsample in their opset-17 form.</summary>
internal sealed partial class GraphExporter
{
    /// <summary>
    /// Upsample and Resize-10 (X, scales) become Resize(X, '', scales) with their asymmetric
    /// mapping and legacy nearest rounding (floor when enlarging, ceil when shrinking). Opset-18
    /// forms are folded: axes into full-rank scales or sizes, keep_aspect_ratio_policy into the
    /// common scale (when flooring by it gives the policy's rounded sizes), antialias=0 dropped.
    /// </summary>
    private void LowerResize(Node n)
    {
        var a = n.Attributes;
        string x = n.Inputs[0], y = n.Outputs[0];
        var input = _shapes[x];
        int rank = input.Rank;
        string mode = a.String("mode") ?? "nearest";
        if (mode == "bilinear") mode = "linear"; // Upsample-1's name

        if (n.OpType == "Upsample" || n.Inputs.Count == 2)
        {
            float[] scales = n.OpType == "Upsample" && a.Floats("scales") is { } attribute ? attribute
                : n.OpType == "Upsample" && a.Has("height_scale") ? [1, 1, a.Float("height_scale", 1), a.Float("width_scale", 1)]
                : (ConstantOf(n.Inputs[1]) ?? throw new OnnxExportException(n, "scales (input 1) must be a constant")).AsFloats();
            var legacy = new Attributes().Set("mode", mode).Set("coordinate_transformation_mode", "asymmetric");
            if (mode == "nearest") legacy.Set("nearest_mode", LegacyRounding(n, scales));
            string scaleInput = Constant(n.Name + "/scales", HostTensor.FromFloats(new TensorShape(scales.Length), scales));
            AddNode("Resize", n.Name, [x, "", scaleInput], [y], legacy);
            return;
        }

        if (a.Has("mode")) a.Set("mode", mode);
        a.Remove(VulkanCnn.Ops.RuntimeAttributes.ResizeScaledAlignCorners); // the runtime's flag for ONNX's own align_corners mapping
        a.Remove("antialias"); // opset 18; the runtime refuses 1, so it is 0 here
        if (a.String("coordinate_transformation_mode") == "half_pixel_symmetric")
            throw new OnnxExportException(n,
                $"coordinate_transformation_mode 'half_pixel_symmetric' needs opset 19 (exporting opset {OnnxExporter.Opset})");
        int[] axes = a.Ints("axes") is { } raw
            ? raw.Select(v => (int)(v < 0 ? v + rank : v)).ToArray()
            : Enumerable.Range(0, rank).ToArray();
        bool partial = a.Has("axes") && !axes.SequenceEqual(Enumerable.Range(0, rank));
        a.Remove("axes");
        string policy = a.String("keep_aspect_ratio_policy") ?? "stretch";
        a.Remove("keep_aspect_ratio_policy");

        if (n.HasInput(2) && partial)
        {
            var given = Required(n, 2, "scales").AsFloats();
            var full = Enumerable.Repeat(1f, rank).ToArray();
            for (int i = 0; i < axes.Length; i++) full[axes[i]] = given[i];
            SetInput(n, 2, Constant(n.Name + "/scales", HostTensor.FromFloats(new TensorShape(rank), full)));
        }
        if (n.HasInput(1) && partial)
        {
            // tf_crop_and_resize's roi per listed axis → starts and ends of every axis (others whole: 0 to 1).
            var given = Required(n, 1, "roi").AsFloats();
            var full = Enumerable.Repeat(0f, rank).Concat(Enumerable.Repeat(1f, rank)).ToArray();
            for (int i = 0; i < axes.Length && 2 * axes.Length == given.Length; i++)
            {
                full[axes[i]] = given[i];
                full[rank + axes[i]] = given[axes.Length + i];
            }
            SetInput(n, 1, Constant(n.Name + "/roi", HostTensor.FromFloats(new TensorShape(2 * rank), full)));
        }
        if (n.HasInput(3))
        {
            var sizes = Required(n, 3, "sizes").AsInts();
            if (policy != "stretch")
            {
                // Opset 18 scales every listed axis by one ratio and rounds; opset 17 floors by the scales it is given.
                var output = _shapes[y];
                var ratios = axes.Select((axis, i) => (double)sizes[i] / input[axis]).ToArray();
                float common = (float)(policy == "not_larger" ? ratios.Min() : ratios.Max());
                var full = Enumerable.Repeat(1f, rank).ToArray();
                foreach (int axis in axes)
                {
                    full[axis] = common;
                    long floored = (long)MathF.Floor(input[axis] * common);
                    if (floored != output[axis])
                        throw new OnnxExportException(n,
                            $"keep_aspect_ratio_policy '{policy}' rounds axis {axis} of input {input} to {output[axis]}; " +
                            $"opset-{OnnxExporter.Opset} scales ({common}) floor it to {floored}");
                }
                SetInput(n, 2, Constant(n.Name + "/scales", HostTensor.FromFloats(new TensorShape(rank), full)));
                n.Inputs.RemoveRange(3, n.Inputs.Count - 3);
            }
            else if (partial)
            {
                var full = input.Select(d => (long)d).ToArray();
                for (int i = 0; i < axes.Length; i++) full[axes[i]] = sizes[i];
                SetInput(n, 3, Ints(n.Name + "/sizes", full));
            }
        }
        AddNode("Resize", n.Name, n.Inputs, n.Outputs, a);
    }

    private static string LegacyRounding(Node n, float[] scales)
    {
        bool up = scales.Any(s => s > 1), down = scales.Any(s => s < 1);
        if (up && down)
            throw new OnnxExportException(n,
                $"scales [{string.Join(", ", scales)}] enlarge one axis and shrink another: the pre-opset-11 nearest rounding " +
                "(floor when enlarging, ceil when shrinking) has no single opset-17 nearest_mode");
        return down ? "ceil" : "floor";
    }

    private HostTensor Required(Node n, int index, string what) =>
        ConstantOf(n.Inputs[index]) ?? throw new OnnxExportException(n, $"{what} (input {index}) must be a constant");
}
