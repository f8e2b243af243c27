using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Training;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Training;

/// <summary>
/// Dropout in training: a seeded, reproducible mask from (seed, step, index), a new mask per step
/// value without re-recording, keep rate 1 − ratio, kept values scaled by 1 / (1 − ratio), and a
/// backward that applies the same mask. Inference stays an identity.
/// </summary>
public sealed class DropoutTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>The step tensor: an int32 stored as raw bits in the float tensor.</summary>
    private static HostTensor Step(int step) => HostTensor.FromFloats([1], [BitConverter.Int32BitsToSingle(step)]);

    private static Node DropoutNode(float ratio = 0.3f, long? seed = 1234, bool mask = true, string name = "dropout0")
    {
        var a = Attrs(("ratio", ratio));
        if (seed is { } s) a.Set("seed", s);
        return new Node("Dropout", name, ["x", "", "", "step"], mask ? ["y", "mask"] : ["y"], a);
    }

    private static IReadOnlyList<NodeInput?> Inputs(float[] x, TensorShape shape, int step) =>
        [new NodeInput(HostTensor.FromFloats(shape, x)), null, null, new NodeInput(Step(step))];

    /// <summary>Forward output and mask of one training build at <paramref name="step"/>.</summary>
    private (float[] Y, float[] Mask) Forward(Node node, float[] x, TensorShape shape, int step)
    {
        using var fwd = new RecordedForward(Device, node, Inputs(x, shape, step).Select(i => i?.Value).ToList(), training: true);
        fwd.Run();
        return (fwd.Outputs[0].ToArray(), fwd.Outputs[1].ToArray());
    }

    /// <summary>Reference forward with a given mask: y = x · mask / (1 − ratio).</summary>
    private static double[] Expected(double[] x, float[] mask, double ratio) => x.Select((v, i) => v * mask[i] / (1 - ratio)).ToArray();

    [Fact]
    public void Training_mask_keeps_one_minus_ratio_and_scales_kept_values()
    {
        const float ratio = 0.3f;
        TensorShape shape = [3, 7, 31, 31];   // 20181 elements: batch 3, odd sizes
        var x = Reference.Random((int)shape.ElementCount, 5, 0.1f, 2f);   // non-zero, so a dropped value is visible
        var (y, mask) = Forward(DropoutNode(ratio), x, shape, 1);
        Assert.All(mask, m => Assert.True(m is 0f or 1f));
        double keep = mask.Average();
        Assert.InRange(keep, 0.7 - 0.015, 0.7 + 0.015);   // ±4.6 standard deviations
        Tolerance.AssertClose(Expected(x.Select(v => (double)v).ToArray(), mask, ratio).Select(v => (float)v).ToArray(), y, Tolerance.Op);
        // Both halves of the tensor and neighbouring elements are mixed, not striped.
        Assert.InRange(mask.Take(mask.Length / 2).Average(), 0.67, 0.73);
        int sameAsNext = Enumerable.Range(0, mask.Length - 1).Count(i => mask[i] == mask[i + 1]);
        Assert.InRange(sameAsNext / (double)(mask.Length - 1), 0.58 - 0.03, 0.58 + 0.03);   // 0.7² + 0.3²
    }

    [Fact]
    public void Same_seed_and_step_repeat_the_mask_and_another_step_or_seed_changes_it()
    {
        TensorShape shape = [2, 5, 9, 11];
        var x = Reference.Random((int)shape.ElementCount, 6, 0.5f, 1f);
        var a = Forward(DropoutNode(), x, shape, 7).Mask;
        var b = Forward(DropoutNode(), x, shape, 7).Mask;
        Assert.Equal(a, b);
        var otherSeed = Forward(DropoutNode(seed: 99), x, shape, 7).Mask;
        var unseededA = Forward(DropoutNode(seed: null, name: "drop_a"), x, shape, 7).Mask;
        var unseededB = Forward(DropoutNode(seed: null, name: "drop_b"), x, shape, 7).Mask;
        Assert.NotEqual(a, otherSeed);
        Assert.NotEqual(unseededA, unseededB);   // the seed comes from the node name

        // One recording, replayed with a new step value written into the step buffer.
        using var fwd = new RecordedForward(Device, DropoutNode(), Inputs(x, shape, 7).Select(i => i?.Value).ToList(), training: true);
        fwd.Run();
        Assert.Equal(a, fwd.Outputs[1].ToArray());
        var masks = new List<float[]>();
        for (int step = 8; step <= 10; step++)
        {
            fwd.Inputs[Dropout.StepInput]!.Upload([BitConverter.Int32BitsToSingle(step)]);
            fwd.Run();
            masks.Add(fwd.Outputs[1].ToArray());
        }
        foreach (var m in masks)
        {
            Assert.NotEqual(a, m);
            // Independent masks agree where both keep or both drop: 0.7² + 0.3² of the time.
            double agree = m.Zip(a, (p, q) => p == q ? 1.0 : 0).Average();
            Assert.InRange(agree, 0.58 - 0.06, 0.58 + 0.06);
        }
        fwd.Inputs[Dropout.StepInput]!.Upload([BitConverter.Int32BitsToSingle(7)]);
        fwd.Run();
        Assert.Equal(a, fwd.Outputs[1].ToArray());
    }

    [Fact]
    public void Backward_applies_the_forward_mask_and_accumulates()
    {
        const float ratio = 0.4f;
        TensorShape shape = [3, 6, 5, 7];
        int n = (int)shape.ElementCount;
        var x = Reference.Random(n, 7, -2, 2);
        var dy = Reference.Random(n, 8);
        var initial = Reference.Random(n, 9, -0.5f, 0.5f);
        var node = DropoutNode(ratio);
        var r = BackwardRunner.Run(Device, node, Inputs(x, shape, 3), [HostTensor.FromFloats(shape, dy)], [true], training: true,
            initialGradients: [HostTensor.FromFloats(shape, initial)]);
        var mask = r.Outputs[1].Floats!;
        Assert.Contains(0f, mask);
        Assert.Contains(1f, mask);
        Assert.Equal(Forward(node, x, shape, 3).Mask, mask);
        double[] xd = x.Select(v => (double)v).ToArray(), dyd = dy.Select(v => (double)v).ToArray();
        Tolerance.AssertClose(Expected(xd, mask, ratio).Select(v => (float)v).ToArray(), r.Outputs[0].Floats, Tolerance.Op, "Y");
        var grad = dyd.Select((g, i) => g * mask[i] / (1 - ratio)).ToArray();
        Tolerance.AssertClose(grad.Select((g, i) => (float)(g + initial[i])).ToArray(), r.InputGradients[0]!.Floats, Tolerance.Op,
            "initial + dX");

        // The reference gradient is the derivative of the reference forward (mask held fixed).
        for (int i = 0; i < n; i += 37)
        {
            const double eps = 1e-6;
            var plus = (double[])xd.Clone();
            var minus = (double[])xd.Clone();
            plus[i] += eps;
            minus[i] -= eps;
            double fd = (Dot(dyd, Expected(plus, mask, ratio)) - Dot(dyd, Expected(minus, mask, ratio))) / (2 * eps);
            Assert.True(Math.Abs(fd - grad[i]) <= 1e-6 * Math.Max(1, Math.Abs(fd)), $"dX[{i}]: finite difference {fd}, analytic {grad[i]}");
        }
    }

    private static double Dot(double[] a, double[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }

    [Fact]
    public void Inference_and_inactive_training_are_identities()
    {
        TensorShape shape = [2, 3, 4, 5];
        int n = (int)shape.ElementCount;
        var x = Reference.Random(n, 10);
        var dy = Reference.Random(n, 11);
        var initial = Reference.Random(n, 12);
        var sum = dy.Select((g, i) => g + initial[i]).ToArray();
        HostTensor[] init = [HostTensor.FromFloats(shape, initial)];

        // With a step input, in eval: a copy, an all-ones mask, dX += dY.
        var eval = BackwardRunner.Run(Device, DropoutNode(), Inputs(x, shape, 1), [HostTensor.FromFloats(shape, dy)], [true],
            training: false, initialGradients: init);
        Assert.Equal(x, eval.Outputs[0].Floats);
        Assert.All(eval.Outputs[1].Floats!, m => Assert.Equal(1f, m));
        Assert.Equal(sum, eval.InputGradients[0]!.Floats);

        // Without one: a view in eval; in training only when nothing is dropped.
        var plain = new Node("Dropout", "d1", ["x"], ["y"], Attrs(("ratio", 0.5f)));
        var view = BackwardRunner.Run(Device, plain, [new NodeInput(HostTensor.FromFloats(shape, x))], [HostTensor.FromFloats(shape, dy)],
            [true], training: false, initialGradients: init);
        Assert.Equal(x, view.Outputs[0].Floats);
        Assert.Equal(sum, view.InputGradients[0]!.Floats);
        var zero = new Node("Dropout", "d2", ["x", "ratio"], ["y"]);
        var noDrop = BackwardRunner.Run(Device, zero,
            [new NodeInput(HostTensor.FromFloats(shape, x)), new NodeInput(HostTensor.Scalar(0f), true)],
            [HostTensor.FromFloats(shape, dy)], [true], training: true, initialGradients: init);
        Assert.Equal(x, noDrop.Outputs[0].Floats);
        Assert.Equal(sum, noDrop.InputGradients[0]!.Floats);

        // training_mode = false (input 2) keeps it an identity even in training.
        var off = new Node("Dropout", "d3", ["x", "", "training_mode", "step"], ["y"], Attrs(("seed", 5)));
        var offRun = BackwardRunner.Run(Device, off, [new NodeInput(HostTensor.FromFloats(shape, x)), null,
            new NodeInput(HostTensor.FromInts([], [0]), true), new NodeInput(Step(1))], [HostTensor.FromFloats(shape, dy)], [true],
                training: true, initialGradients: init);
        Assert.Equal(x, offRun.Outputs[0].Floats);
        Assert.Equal(sum, offRun.InputGradients[0]!.Floats);

        Assert.True(OperatorRegistry.TryGet("Dropout", out var op));
        Assert.True(op.Traits(plain).HasFlag(OperatorTraits.Identity));
        Assert.Equal(OperatorTraits.None, op.Traits(DropoutNode()));
    }

    [Theory]
    [InlineData(0.3f, true)]
    [InlineData(0.75f, false)]
    [InlineData(0f, true)]
    public void A_constant_true_training_mode_drops_outside_the_trainer(float ratio, bool withMask)
    {
        // ONNX training_mode=1 (opset 12+ input) in an inference session: no step input, a fixed step.
        TensorShape shape = [3, 7, 11];
        var x = Reference.Random((int)shape.ElementCount, 41, 0.5f, 2f);
        var node = new Node("Dropout", "train_drop", ["x", "ratio", "training_mode"], withMask ? ["y", "mask"] : ["y"], Attrs(("seed", 3)));
        List<NodeInput?> inputs = [new(HostTensor.FromFloats(shape, x)), new(HostTensor.Scalar(ratio), true),
            new(HostTensor.FromInts([], [1]), true)];
        var first = NodeRunner.Run(Device, node, inputs);
        var again = NodeRunner.Run(Device, node, inputs);
        Assert.Equal(first[0].Floats, again[0].Floats);   // the seed fixes the mask
        float scale = 1 / (1 - ratio);
        int dropped = 0;
        for (int i = 0; i < x.Length; i++)
        {
            float y = first[0].Floats![i];
            bool kept = Math.Abs(y - x[i] * scale) <= 1e-5f * x[i] * scale;
            Assert.True(kept || y == 0, $"y[{i}] = {y} is neither 0 nor {x[i] * scale}");
            if (withMask) Assert.Equal(kept ? 1f : 0f, first[1].Floats![i]);
            if (!kept) dropped++;
        }
        double n = x.Length, sigma = Math.Sqrt(n * ratio * (1 - ratio));
        Assert.InRange(dropped, n * ratio - 5 * sigma, n * ratio + 5 * sigma);
        Assert.True(OperatorRegistry.TryGet("Dropout", out var op));
        Assert.Equal(OperatorTraits.None, op.Traits(node));

        // A constant false training_mode: a copy and an all-ones mask, without a step input.
        inputs[2] = new(HostTensor.FromInts([], [0]), true);
        var off = NodeRunner.Run(Device, node, inputs);
        Assert.Equal(x, off[0].Floats);
        if (withMask) Assert.All(off[1].Floats!, m => Assert.Equal(1f, m));
    }

    [Fact]
    public void Bad_dropout_configurations_are_refused_clearly()
    {
        TensorShape shape = [2, 3];
        var x = new NodeInput(HostTensor.FromFloats(shape, new float[6]));
        var noStep = new Node("Dropout", "dropout0", ["x"], ["y"], Attrs(("ratio", 0.2f)));
        var e = Assert.Throws<UnsupportedAttributeException>(() =>
            BackwardRunner.Run(Device, noStep, [x], [HostTensor.FromFloats(shape, new float[6])], [true]));
        Assert.Contains("dropout0", e.Message);
        Assert.Contains("step input", e.Message);
        Assert.Throws<UnsupportedAttributeException>(() => NodeRunner.Run(Device, new Node("Dropout", "d", ["x"], ["y", "mask"]), [x]));
        var g = Assert.Throws<GraphException>(() => Run1(Device, "Dropout", Attrs(("ratio", 1f)), In.Of(shape, new float[6])));
        Assert.Contains("[0, 1)", g.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "Dropout", null, In.Of(shape, new float[6]), In.Weight([2], [0.1f, 0.2f])));
        Assert.Throws<UnsupportedAttributeException>(() => Run1(Device, "Dropout", null, In.Of(shape, new float[6]), new In([], [0.1f])));
        var badStep = new Node("Dropout", "d", ["x", "", "", "step"], ["y"]);
        Assert.Throws<GraphException>(() =>
            NodeRunner.Run(Device, badStep, [x, null, null, new NodeInput(HostTensor.FromFloats([2], [0f, 0f]))]));
    }
}
