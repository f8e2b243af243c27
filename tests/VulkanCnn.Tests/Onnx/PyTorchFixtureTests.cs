using VulkanCnn.Tests.Infrastructure;

namespace VulkanCnn.Tests.Onnx;

/// <summary>The PyTorch-exported fixtures are sane: ONNX Runtime reproduces PyTorch's saved outputs on the
/// saved inputs. (VulkanCnn's own results are compared with ORT once the importer lands.)</summary>
public sealed class PyTorchFixtureTests
{
    [Theory]
    [MemberData(nameof(OnnxFixtures.Names), MemberType = typeof(OnnxFixtures))]
    public void OnnxRuntime_reproduces_the_PyTorch_output(string name)
    {
        var fixture = OnnxFixtures.Get(name);
        using var ort = new OrtRunner(fixture.ModelPath);
        var input = Assert.Single(ort.Inputs);
        Assert.Equal("input", input.Name);
        Assert.Equal(fixture.Input.Shape, input.Shape);
        Assert.Equal("output", Assert.Single(ort.Outputs).Name);

        var actual = ort.Run(new Dictionary<string, NamedTensor> { ["input"] = fixture.Input })["output"];
        var expected = fixture.ExpectedOutput;
        Assert.Equal(expected.Shape, actual.Shape);
        Tolerance.AssertClose(expected.Data, actual.Data, Tolerance.Op, name);
    }

    [Fact]
    public void Every_fixture_file_is_covered_and_small()
    {
        string dir = Repo.PathOf("tests", "fixtures", "onnx");
        var onDisk = Directory.GetFiles(dir, "*.onnx").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal);
        Assert.Equal(OnnxFixtures.All.Select(f => f.ToString()).Order(StringComparer.Ordinal), onDisk);
        foreach (var f in OnnxFixtures.All)
        {
            Assert.True(new FileInfo(f.ModelPath).Length < 300_000, $"{f} is larger than 300 KB");
            Assert.True(File.Exists(f.InputPath) && File.Exists(f.OutputPath), $"{f}: input or output .npy missing");
        }
    }
}
