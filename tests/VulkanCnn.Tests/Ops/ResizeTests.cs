using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>Resize / Upsample against a CPU reference that maps every output pixel back by the ONNX formulas.</summary>
public sealed class ResizeTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>ONNX coordinate_transformation_mode: output index → source coordinate.</summary>
    private static double Source(string mode, int o, int inLen, int outLen, double scale) => mode switch
    {
        "half_pixel" => (o + 0.5) / scale - 0.5,
        "pytorch_half_pixel" => outLen > 1 ? (o + 0.5) / scale - 0.5 : 0,
        "align_corners" => outLen == 1 ? 0 : o * (inLen - 1.0) / (outLen - 1.0),
        "asymmetric" => o / scale,
        "tf_half_pixel_for_nn" => (o + 0.5) / scale,
        "half_pixel_symmetric" => inLen / 2.0 * (1 - outLen / (scale * inLen)) + (o + 0.5) / scale - 0.5,
        _ => throw new ArgumentException(mode),
    };

    private static int Nearest(string rounding, double v, double scale)
    {
        double f = Math.Floor(v);
        bool tie = v - f == 0.5;
        return (int)(rounding switch
        {
            "round_prefer_floor" => tie ? f : Math.Round(v),
            "round_prefer_ceil" => tie ? f + 1 : Math.Round(v),
            "floor" => f,
            "ceil" => Math.Ceiling(v),
            "legacy" => scale < 1 ? Math.Ceiling(v) : f,
            _ => throw new ArgumentException(rounding),
        });
    }

    /// <summary>Reference resize of an [N, C, H, W] tensor.</summary>
    internal static float[] Reference(float[] x, int[] dims, int outH, int outW, double scaleH, double scaleW, bool linear,
        string coordinates, string rounding)
    {
        int h = dims[2], w = dims[3];
        float At(int n, int c, int y, int xx) => x[((n * dims[1] + c) * h + Math.Clamp(y, 0, h - 1)) * w + Math.Clamp(xx, 0, w - 1)];
        return NdIndex.Build([dims[0], dims[1], outH, outW], o =>
        {
            double sy = Source(coordinates, o[2], h, outH, scaleH), sx = Source(coordinates, o[3], w, outW, scaleW);
            if (!linear) return At(o[0], o[1], Nearest(rounding, sy, scaleH), Nearest(rounding, sx, scaleW));
            int y0 = (int)Math.Floor(sy), x0 = (int)Math.Floor(sx);
            double fy = sy - y0, fx = sx - x0;
            double top = (1 - fx) * At(o[0], o[1], y0, x0) + fx * At(o[0], o[1], y0, x0 + 1);
            double bottom = (1 - fx) * At(o[0], o[1], y0 + 1, x0) + fx * At(o[0], o[1], y0 + 1, x0 + 1);
            return (float)((1 - fy) * top + fy * bottom);
        });
    }

    /// <summary>Every coordinate mode, nearest (each rounding) and trilinear, over the depth, height and width of an NCDHW input,
    /// against a reference that maps each output voxel back along the three axes at once.</summary>
    [Theory]
    [InlineData("half_pixel", "linear", "round_prefer_floor")]
    [InlineData("align_corners", "linear", "round_prefer_floor")]
    [InlineData("pytorch_half_pixel", "linear", "round_prefer_floor")]
    [InlineData("asymmetric", "nearest", "floor")]
    [InlineData("tf_half_pixel_for_nn", "nearest", "round_prefer_ceil")]
    [InlineData("half_pixel", "nearest", "round_prefer_floor")]
    public void Resize_3d_matches_reference(string coordinates, string mode, string rounding)
    {
        int[] dims = [2, 3, 3, 4, 5];
        double[] scales = [1, 1, 2, 1.5, (float)0.6];   // the float the node holds: 0.6f maps output 1 just below a tie
        int[] outDims = [2, 3, 6, 6, 3];
        var x = In.Random(dims, 82);
        var y = Run1(Device, "Resize", Attrs(("mode", mode), ("coordinate_transformation_mode", coordinates), ("nearest_mode", rounding)),
            x, null, In.Weight([5], scales.Select(v => (float)v).ToArray()));
        Assert.Equal(new TensorShape(outDims), y.Shape);
        float At(int n, int c, int z, int yy, int xx) => x.Data![(((n * 3 + c) * 3 + Math.Clamp(z, 0, 2)) * 4 + Math.Clamp(yy, 0, 3)) * 5
            + Math.Clamp(xx, 0, 4)];
        var expected = NdIndex.Build(outDims, o =>
        {
            var src = Enumerable.Range(0, 3)
                .Select(a => Source(coordinates, o[2 + a], dims[2 + a], outDims[2 + a], scales[2 + a])).ToArray();
            if (mode == "nearest")
            {
                var i = Enumerable.Range(0, 3).Select(a => Nearest(rounding, src[a], scales[2 + a])).ToArray();
                return At(o[0], o[1], i[0], i[1], i[2]);
            }
            double sum = 0;
            for (int corner = 0; corner < 8; corner++)
            {
                double weight = 1;
                var i = new int[3];
                for (int a = 0; a < 3; a++)
                {
                    int lo = (int)Math.Floor(src[a]), bit = corner >> a & 1;
                    double f = src[a] - lo;
                    i[a] = lo + bit;
                    weight *= bit == 1 ? f : 1 - f;
                }
                sum += weight * At(o[0], o[1], i[0], i[1], i[2]);
            }
            return (float)sum;
        });
        Tolerance.AssertClose(expected, y.Floats, Tolerance.Op, $"{coordinates} {mode}");
    }

    private static readonly string[] CoordinateModes =
        ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn", "half_pixel_symmetric"];

    public static TheoryData<string, string, string> ModeCases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var coordinates in CoordinateModes)
            foreach (var mode in new[] { "nearest", "linear" })
                foreach (var resize in new[] { "scales-up", "scales-down", "sizes-up", "sizes-down", "sizes-1x1" })
                    data.Add(coordinates, mode, resize);
        return data;
    }

    [Theory]
    [MemberData(nameof(ModeCases))]
    public void Resize_matches_reference(string coordinates, string mode, string resize)
    {
        int[] dims = resize == "sizes-1x1" ? [1, 3, 1, 1] : [2, 3, 5, 4];
        var x = In.Random(dims, 81);
        var attrs = Attrs(("mode", mode), ("coordinate_transformation_mode", coordinates));
        var (y, outH, outW, scaleH, scaleW) = RunResize(dims, attrs, x, resize);
        Assert.Equal(new TensorShape(dims[0], dims[1], outH, outW), y.Shape);
        var expected = Reference(x.Data!, dims, outH, outW, scaleH, scaleW, mode == "linear", coordinates, "round_prefer_floor");
        Tolerance.AssertClose(expected, y.Floats, Tolerance.Op);
    }

    /// <summary>Runs Resize with scales ("scales-up"/"scales-down") or sizes ("sizes-up"/"sizes-down"/"sizes-1x1"),
    /// returning the output with the output size and the per-axis scale the reference uses.</summary>
    private (HostTensor Y, int OutH, int OutW, double ScaleH, double ScaleW) RunResize(int[] dims, Attributes attrs, In x, string resize)
    {
        if (resize.StartsWith("scales"))
        {
            var (scaleH, scaleW) = resize == "scales-up" ? (2.0, 1.5) : (0.5, 0.75);
            var y = Run1(Device, "Resize", attrs, x, null, new In([4], [1, 1, (float)scaleH, (float)scaleW], Const: true));
            return (y, (int)Math.Floor(dims[2] * scaleH), (int)Math.Floor(dims[3] * scaleW), scaleH, scaleW);
        }
        var (outH, outW) = resize == "sizes-up" ? (7, 11) : (3, 2);
        return (Run1(Device, "Resize", attrs, x, null, null, In.Int64(dims[0], dims[1], outH, outW)), outH, outW, (double)outH / dims[2],
            (double)outW / dims[3]);
    }

    /// <summary>The ONNX reference's 1-D interpolation at source coordinate <paramref name="xo"/>: the n nearest
    /// indices of the edge-padded row (ties to the lower), ratio in (0, 1], Keys' cubic coefficients.</summary>
    private static double Interpolate(Func<int, double> at, int len, double xo, string mode, double a, bool exclude, bool crop,
        float extrapolation)
    {
        if (crop && (xo < 0 || xo > len - 1)) return extrapolation;
        if (mode == "nearest") return at(Math.Clamp(Nearest("round_prefer_floor", xo, 1), 0, len - 1));
        int n = mode == "linear" ? 2 : 4, pad = (n + 1) / 2;
        double r = xo == Math.Floor(xo) ? 1 : xo - Math.Floor(xo);
        double[] c = mode == "linear" ? [1 - r, r] :
        [
            ((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
            ((a + 2) * r - (a + 3)) * r * r + 1,
            ((a + 2) * (1 - r) - (a + 3)) * (1 - r) * (1 - r) + 1,
            ((a * (2 - r) - 5 * a) * (2 - r) + 8 * a) * (2 - r) - 4 * a,
        ];
        var idx = Enumerable.Range(-pad, len + 2 * pad).OrderBy(i => Math.Abs(xo - i)).ThenBy(i => i).Take(n).Order().ToArray();
        if (exclude)
        {
            for (int k = 0; k < n; k++) if (idx[k] < 0 || idx[k] >= len) c[k] = 0;
            double sum = c.Sum();
            for (int k = 0; k < n; k++) c[k] /= sum;
        }
        return idx.Select((i, k) => c[k] * at(Math.Clamp(i, 0, len - 1))).Sum();
    }

    /// <summary>Reference resize of [N, C, H, W] through <see cref="Interpolate"/>: along W for each row, then along H.
    /// <paramref name="roi"/>: (startH, startW, endH, endW) for tf_crop_and_resize.</summary>
    private static float[] TapReference(float[] x, int[] dims, int outH, int outW, double scaleH, double scaleW, string mode,
        string coordinates,
        double a = -0.75, bool exclude = false, float[]? roi = null, float extrapolation = 0)
    {
        int h = dims[2], w = dims[3];
        double Src(int o, int len, int outLen, double scale, int axis) => roi is null ? Source(coordinates, o, len, outLen, scale)
            : (outLen == 1 ? (roi[axis + 2] - roi[axis]) * (len - 1) / 2.0
                : o * (roi[axis + 2] - roi[axis]) * (len - 1) / (outLen - 1.0)) + roi[axis] * (len - 1);
        return NdIndex.Build([dims[0], dims[1], outH, outW], o =>
        {
            int plane = (o[0] * dims[1] + o[1]) * h * w;
            double Row(int r) =>
                Interpolate(col => x[plane + r * w + col], w, Src(o[3], w, outW, scaleW, 1), mode, a, exclude, roi is not null,
                    extrapolation);
            return (float)Interpolate(Row, h, Src(o[2], h, outH, scaleH, 0), mode, a, exclude, roi is not null, extrapolation);
        });
    }

    public static TheoryData<string, string, double, bool> CubicCases()
    {
        var data = new TheoryData<string, string, double, bool>();
        foreach (var coordinates in new[] { "half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "half_pixel_symmetric" })
            foreach (var resize in new[] { "scales-up", "scales-down", "sizes-up", "sizes-1x1" })
            {
                data.Add(coordinates, resize, -0.75, false);
                data.Add(coordinates, resize, -0.5, true);
            }
        return data;
    }

    [Theory]
    [MemberData(nameof(CubicCases))]
    public void Cubic_matches_reference(string coordinates, string resize, double a, bool exclude)
    {
        int[] dims = resize == "sizes-1x1" ? [1, 3, 1, 1] : [2, 3, 5, 4];
        var x = In.Random(dims, 86);
        var attrs = Attrs(("mode", "cubic"), ("coordinate_transformation_mode", coordinates), ("cubic_coeff_a", (float)a),
            ("exclude_outside", exclude ? 1 : 0));
        var (y, outH, outW, scaleH, scaleW) = RunResize(dims, attrs, x, resize);
        Assert.Equal(new TensorShape(dims[0], dims[1], outH, outW), y.Shape);
        Tolerance.AssertClose(TapReference(x.Data!, dims, outH, outW, scaleH, scaleW, "cubic", coordinates, (float)a, exclude), y.Floats,
            Tolerance.Op);
    }

    [Theory]
    [InlineData("linear", false)]
    [InlineData("nearest", false)]
    [InlineData("cubic", false)]
    [InlineData("linear", true)]   // opset 18: roi per entry of axes
    public void Tf_crop_and_resize_matches_reference(string mode, bool axes)
    {
        int[] dims = [2, 3, 6, 5];
        var x = In.Random(dims, 87);
        // H: a crop inside the input; W: a crop that runs past both edges (extrapolated columns).
        float[] roi = [0.2f, -0.3f, 0.7f, 1.4f];
        const int outH = 4, outW = 7;
        var attrs = Attrs(("mode", mode), ("coordinate_transformation_mode", "tf_crop_and_resize"), ("extrapolation_value", 10f));
        In roiInput = new([8], [0, 0, roi[0], roi[1], 1, 1, roi[2], roi[3]], Const: true);
        if (axes)
        {
            attrs.Set("axes", new[] { 2, 3 });
            roiInput = new In([4], roi, Const: true);
        }
        var sizes = axes ? In.Int64(outH, outW) : In.Int64(2, 3, outH, outW);
        var y = Run1(Device, "Resize", attrs, x, roiInput, null, sizes);
        Assert.Equal(new TensorShape(2, 3, outH, outW), y.Shape);
        var expected = TapReference(x.Data!, dims, outH, outW, outH / 6.0, outW / 5.0, mode, "", roi: roi, extrapolation: 10);
        Assert.Contains(10f, expected);
        Tolerance.AssertClose(expected, y.Floats, Tolerance.Op);
    }

    [Fact]
    public void Tf_crop_and_resize_to_one_pixel_takes_the_crop_centre()
    {
        int[] dims = [1, 2, 5, 7];
        var x = In.Random(dims, 88);
        float[] roi = [0.1f, 0.3f, 0.9f, 0.5f];
        var y = Run1(Device, "Resize", Attrs(("mode", "linear"), ("coordinate_transformation_mode", "tf_crop_and_resize")),
            x, new In([8], [0, 0, roi[0], roi[1], 1, 1, roi[2], roi[3]], Const: true), null, In.Int64(1, 2, 1, 1));
        Tolerance.AssertClose(TapReference(x.Data!, dims, 1, 1, 0.2, 1 / 7.0, "linear", "", roi: roi), y.Floats, Tolerance.Op);
    }

    [Theory]
    [InlineData("round_prefer_floor", "half_pixel", 0.5)]
    [InlineData("round_prefer_ceil", "half_pixel", 0.5)]
    [InlineData("floor", "half_pixel", 0.5)]
    [InlineData("ceil", "half_pixel", 0.5)]
    [InlineData("round_prefer_floor", "asymmetric", 2.0)]
    [InlineData("round_prefer_ceil", "asymmetric", 2.0)]
    [InlineData("floor", "tf_half_pixel_for_nn", 3.0)]
    [InlineData("ceil", "align_corners", 1.5)]
    public void Nearest_modes_break_ties_as_named(string rounding, string coordinates, double scale)
    {
        // Half-pixel at scale 0.5 and asymmetric at scale 2 put source coordinates exactly on .5.
        int[] dims = [1, 2, 6, 6];
        var x = In.Random(dims, 82);
        int outSize = (int)Math.Floor(6 * scale);
        var y = Run1(Device, "Resize",
            Attrs(("mode", "nearest"), ("coordinate_transformation_mode", coordinates), ("nearest_mode", rounding)),
            x, null, new In([4], [1, 1, (float)scale, (float)scale], Const: true));
        Tolerance.AssertClose(Reference(x.Data!, dims, outSize, outSize, scale, scale, false, coordinates, rounding), y.Floats,
            Tolerance.Op);
    }

    [Theory]
    [InlineData("nearest", 2f, 3f)]
    [InlineData("nearest", 0.5f, 0.6f)]
    [InlineData("linear", 2f, 1.5f)]
    public void Resize_10_and_Upsample_map_asymmetrically(string mode, float scaleH, float scaleW)
    {
        int[] dims = [2, 3, 4, 5];
        var x = In.Random(dims, 83);
        int outH = (int)Math.Floor(4 * (double)scaleH), outW = (int)Math.Floor(5 * (double)scaleW);
        var expected = Reference(x.Data!, dims, outH, outW, scaleH, scaleW, mode == "linear", "asymmetric", "legacy");
        var scales = new In([4], [1, 1, scaleH, scaleW], Const: true);

        var resize10 = Run1(Device, "Resize", Attrs(("mode", mode)), x, scales);
        Assert.Equal(new TensorShape(2, 3, outH, outW), resize10.Shape);
        Tolerance.AssertClose(expected, resize10.Floats, Tolerance.Op, "Resize-10");
        Tolerance.AssertClose(expected, Run1(Device, "Upsample", Attrs(("mode", mode)), x, scales).Floats, Tolerance.Op, "Upsample-9");
        var upsample7 = Run1(Device, "Upsample", Attrs(("mode", mode), ("scales", new[] { 1f, 1f, scaleH, scaleW })), x);
        Tolerance.AssertClose(expected, upsample7.Floats, Tolerance.Op, "Upsample-7");
    }

    [Fact]
    public void Opset_18_axes_and_aspect_ratio_policy()
    {
        int[] dims = [1, 3, 4, 6];
        var x = In.Random(dims, 84);
        var y = Run1(Device, "Resize", Attrs(("mode", "linear"), ("axes", new[] { -2, -1 })), x, null, null, In.Int64(6, 9));
        Tolerance.AssertClose(Reference(x.Data!, dims, 6, 9, 1.5, 1.5, true, "half_pixel", ""), y.Floats, Tolerance.Op);

        // not_larger: one scale for both axes, the smaller of 8/4 and 9/6.
        y = Run1(Device, "Resize", Attrs(("axes", new[] { 2, 3 }), ("keep_aspect_ratio_policy", "not_larger")), x, null, null,
            In.Int64(8, 9));
        Assert.Equal(new TensorShape(1, 3, 6, 9), y.Shape);
        Tolerance.AssertClose(Reference(x.Data!, dims, 6, 9, 1.5, 1.5, false, "half_pixel", "round_prefer_floor"), y.Floats, Tolerance.Op);
    }

    [Fact]
    public void Unsupported_and_bad_resizes_name_the_node()
    {
        var x = In.Random([1, 2, 4, 4], 85);
        var scales = new In([4], [1, 1, 2, 2], Const: true);
        var e = Assert.Throws<UnsupportedAttributeException>(() =>
            Run1(Device, "Resize", Attrs(("mode", "linear"), ("antialias", 1)), x, null, scales));
        Assert.Contains("resize0", e.Message);
        // Resize-10 has no cubic
        var cubic10 = Assert.Throws<GraphException>(() => Run1(Device, "Resize", Attrs(("mode", "cubic")), x, scales));
        Assert.Contains("'cubic'", cubic10.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "Upsample", Attrs(("mode", "cubic")), x, scales));
        var noRoi = Assert.Throws<GraphException>(() =>
            Run1(Device, "Resize", Attrs(("coordinate_transformation_mode", "tf_crop_and_resize")), x, null, scales));
        Assert.Contains("roi", noRoi.Message);
        var shortRoi = Assert.Throws<GraphException>(() =>
            Run1(Device, "Resize", Attrs(("coordinate_transformation_mode", "tf_crop_and_resize")), x,
                new In([4], [0, 0, 1, 1], Const: true), scales));
        Assert.Contains("roi has 4 values", shortRoi.Message);
        var channelCrop = Assert.Throws<UnsupportedAttributeException>(() =>
            Run1(Device, "Resize", Attrs(("coordinate_transformation_mode", "tf_crop_and_resize")),
            x, new In([8], [0, 0.5f, 0, 0, 1, 1, 1, 1], Const: true), scales));
        Assert.Contains("axis 1", channelCrop.Message);
        var exclude = Assert.Throws<GraphException>(() =>
            Run1(Device, "Resize", Attrs(("mode", "cubic"), ("exclude_outside", 2)), x, null, scales));
        Assert.Contains("exclude_outside", exclude.Message);
        var channels = Assert.Throws<UnsupportedAttributeException>(() =>
            Run1(Device, "Resize", null, x, null, new In([4], [1, 2, 2, 2], Const: true)));
        Assert.Contains("[1, 2, 4, 4]", channels.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "Resize", null, x, null, scales, In.Int64(1, 2, 8, 8)));
        Assert.Throws<GraphException>(() => Run1(Device, "Resize", null, x, null, new In([2], [2, 2], Const: true)));
        Assert.Throws<GraphException>(() => Run1(Device, "Resize", Attrs(("mode", "bicubic")), x, null, scales));
    }
}
