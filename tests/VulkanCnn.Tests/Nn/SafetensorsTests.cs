using System.Buffers.Binary;
using System.Text;
using VulkanCnn.Nn;

namespace VulkanCnn.Tests.Nn;

public sealed class SafetensorsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vkcnn-st-" + Guid.NewGuid().ToString("N"));

    public SafetensorsTests() => Directory.CreateDirectory(_dir);

    private string PathOf(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Module_parameters_round_trip_with_state_dict_names_and_metadata()
    {
        Init.ManualSeed(1);
        var model = new Sequential(Layers.Conv2d(3, 4, 3, padding: 1), Layers.BatchNorm2d(4), Layers.ReLU(), Layers.Flatten(),
            Layers.Linear(4 * 5 * 5, 2));
        Assert.Equal(["0.bias", "0.weight", "1.bias", "1.running_mean", "1.running_var", "1.weight", "4.bias", "4.weight"],
            model.StateDict().Keys.Order(StringComparer.Ordinal));
        string path = PathOf("model.safetensors");
        model.SaveSafetensors(path, new Dictionary<string, string> { ["format"] = "pt", ["classes"] = "a,b" });

        Init.ManualSeed(2);
        var other = new Sequential(Layers.Conv2d(3, 4, 3, padding: 1), Layers.BatchNorm2d(4), Layers.ReLU(), Layers.Flatten(),
            Layers.Linear(4 * 5 * 5, 2));
        Assert.NotEqual(model.StateDict()["0.weight"].Data, other.StateDict()["0.weight"].Data);
        var meta = other.LoadSafetensors(path);
        foreach (var (name, p) in model.StateDict()) Assert.Equal(p.Data, other.StateDict()[name].Data);
        Assert.Equal("a,b", meta["classes"]);
    }

    [Fact]
    public void A_mismatched_model_is_refused_without_changing_it()
    {
        var model = new Sequential(Layers.Linear(3, 2));
        string path = PathOf("linear.safetensors");
        model.SaveSafetensors(path);
        var wider = new Sequential(Layers.Linear(4, 2));
        float[] before = (float[])wider.StateDict()["0.weight"].Data.Clone();
        var e = Assert.Throws<SafetensorsException>(() => wider.LoadSafetensors(path));
        Assert.Contains("0.weight", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        Assert.Equal(before, wider.StateDict()["0.weight"].Data);
        var e2 = Assert.Throws<SafetensorsException>(() => new Sequential(Layers.Linear(3, 2, bias: false)).LoadSafetensors(path));
        Assert.Contains("unexpected [0.bias]", e2.Message);
    }

    private string Raw(string header, int dataBytes, long? headerLength = null)
    {
        string path = PathOf(Guid.NewGuid().ToString("N") + ".safetensors");
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, headerLength ?? json.Length);
        json.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4, null, "outside")]
    [InlineData("""{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, null, "needs 12 bytes")]
    [InlineData("""{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}""", 4, null, "F16")]
    [InlineData("""{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4, null, "dimension -1")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2147483647,2147483647],"data_offsets":[0,4]}}""", 4, null, "needs")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}""", 4, null, "outside")]
    [InlineData("""{"w":"nonsense"}""", 0, null, "malformed")]
    [InlineData("""[1,2,3]""", 0, null, "not a JSON object")]
    [InlineData("""{}""", 0, 1L << 40, "header length")]
    [InlineData("""{}""", 0, -5L, "header length")]
    public void Hostile_headers_are_refused_with_a_clear_error(string header, int dataBytes, long? headerLength, string expected)
    {
        string path = Raw(header, dataBytes, headerLength);
        var e = Assert.Throws<SafetensorsException>(() => Safetensors.Load(path));
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void A_truncated_file_is_refused()
    {
        string path = PathOf("t.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Throws<SafetensorsException>(() => Safetensors.Load(path));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
