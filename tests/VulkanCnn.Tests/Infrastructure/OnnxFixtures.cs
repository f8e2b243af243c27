using VulkanCnn.Imaging;

namespace VulkanCnn.Tests.Infrastructure;

/// <summary>One PyTorch-exported model of tests/fixtures/onnx with its saved input and PyTorch output.</summary>
public sealed record OnnxFixture(string Model, int Opset)
{
    public string ModelPath => Repo.PathOf("tests", "fixtures", "onnx", $"{Model}_opset{Opset}.onnx");
    public string InputPath => Repo.PathOf("tests", "fixtures", "onnx", $"{Model}_input.npy");
    public string OutputPath => Repo.PathOf("tests", "fixtures", "onnx", $"{Model}_output.npy");

    /// <summary>The graph input (named "input"), as saved by make_fixtures.py.</summary>
    public NamedTensor Input => Load(InputPath);

    /// <summary>PyTorch's output (graph output "output") for <see cref="Input"/>.</summary>
    public NamedTensor ExpectedOutput => Load(OutputPath);

    private static NamedTensor Load(string path)
    {
        var array = NpyFile.ReadFloat32(path);
        return new NamedTensor(array.Data, array.Shape);
    }

    public override string ToString() => $"{Model}_opset{Opset}";
}

/// <summary>The fixtures make_fixtures.py writes: six small CNNs (four 2-D, a 1-D audio and a 3-D video one), each at opsets 11 and
/// 13.</summary>
public static class OnnxFixtures
{
    public static readonly string[] Models =
        ["resnet_blocks", "inception_block", "mobilenet_block", "decoder_upsample", "audio_cnn_1d", "video_cnn_3d"];
    public static readonly int[] Opsets = [11, 13];

    public static IEnumerable<OnnxFixture> All => Models.SelectMany(m => Opsets.Select(o => new OnnxFixture(m, o)));

    /// <summary>For [MemberData]: one row per fixture, named like its .onnx file.</summary>
    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var f in All) data.Add(f.ToString());
        return data;
    }

    public static OnnxFixture Get(string name)
    {
        int at = name.LastIndexOf("_opset", StringComparison.Ordinal);
        return new OnnxFixture(name[..at], int.Parse(name[(at + 6)..]));
    }
}
