using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using VulkanCnn.Imaging;
using VulkanCnn.Imaging.Frames;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Training.Data;
using VulkanCnn.Viewer.Classifiers;

namespace VulkanCnn.Tests.Viewer;

/// <summary>
/// Teach by showing without a camera: frames come from image folders of two Fashion-MNIST classes; a few are
/// captured per class through the live path (GPU preprocessing, sliced ResNet18, background head training on the
/// GPU), then frames that were never captured are classified.
/// </summary>
public sealed class TeachByShowingTests(GpuFixture gpu) : GpuTest(gpu), IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vkcnn-teach-" + Guid.NewGuid().ToString("N"));
    private long _frameIndex;

    public override void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        base.Dispose();
    }

    /// <summary>Writes the first <paramref name="count"/> test images of <paramref name="label"/> as PNG files.</summary>
    private string Folder(FashionMnist test, int label, int count)
    {
        string folder = Path.Combine(_dir, FashionMnist.Labels[label]);
        Directory.CreateDirectory(folder);
        int written = 0;
        for (int i = 0; i < test.Count && written < count; i++)
        {
            if (test.Label(i) != label) continue;
            using var image = Image.LoadPixelData<L8>(test.Pixels(i).ToArray(), 28, 28);
            image.SaveAsPng(Path.Combine(folder, $"{written++:D2}.png"));
        }
        return folder;
    }

    /// <summary>Shows one frame and ticks the classifier until the backbone has finished with it.</summary>
    private void Show(TeachByShowingClassifier classifier, FramePixels pixels, Frame frame)
    {
        pixels.Upload(frame.Rgb);
        int before = classifier.Completed;
        classifier.Tick(_frameIndex++);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (classifier.Completed == before)
        {
            Assert.True(DateTime.UtcNow < deadline, "the backbone did not finish a frame within a minute");
            Thread.Sleep(2);
            classifier.Tick(null);
        }
    }

    [Fact]
    public void A_head_taught_with_a_few_captured_frames_classifies_frames_it_never_saw()
    {
        var test = FashionMnist.Load(train: false);
        const int trouser = 1, bag = 8, captured = 4, heldOut = 6;
        var folders = new[] { Folder(test, trouser, captured + heldOut), Folder(test, bag, captured + heldOut) };
        using var pixels = new FramePixels(Device, 56, 56);
        using var classifier = new TeachByShowingClassifier(Device, pixels, budgetMilliseconds: 1000, ["Trouser", "Bag"],
            Path.Combine(_dir, "head.safetensors"), PretrainedModels.ResNet18Onnx);
        var sources = folders.Select(f => new StillFrameSource(f, 56, 56, TimeSpan.Zero, loop: false)).ToArray();
        try
        {
            for (int k = 0; k < captured; k++)
                for (int c = 0; c < 2; c++)
                {
                    Show(classifier, pixels, sources[c].Next(TimeSpan.FromSeconds(5))!);
                    classifier.Capture(c); // the frame on screen, already through the backbone: captured at once
                    Assert.Equal(2 * k + c + 1, classifier.SampleCounts.Values.Sum());
                }
            Assert.Equal(new Dictionary<int, int> { [1] = captured, [2] = captured }, classifier.SampleCounts);
            classifier.WaitForTraining();
            Assert.True(classifier.HeadVersion >= 1);

            int correct = 0;
            for (int k = 0; k < heldOut; k++)
                for (int c = 0; c < 2; c++)
                {
                    Show(classifier, pixels, sources[c].Next(TimeSpan.FromSeconds(5))!);
                    if (classifier.Latest!.Top[0].Label == (c == 0 ? "Trouser" : "Bag")) correct++;
                }
            // nothing captured without a key
            Assert.Equal(new Dictionary<int, int> { [1] = captured, [2] = captured }, classifier.SampleCounts);
            Assert.True(correct >= 10, $"{correct} of {2 * heldOut} held-out frames right (chance: {heldOut})");

            Assert.StartsWith("saved head", classifier.Save());
            Assert.StartsWith("loaded 2-class head", classifier.Load(Path.Combine(_dir, "head.safetensors")));
            Assert.StartsWith("loaded from", classifier.HeadOrigin);
            Assert.StartsWith("could not load", classifier.Load(Path.Combine(_dir, "missing.safetensors"))); // a message, not a crash
            File.WriteAllText(Path.Combine(_dir, "junk.safetensors"), "not a head");
            Assert.StartsWith("could not load", classifier.Load(Path.Combine(_dir, "junk.safetensors")));
        }
        finally
        {
            foreach (var s in sources) s.Dispose();
        }
    }
}
