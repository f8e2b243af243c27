using System.Buffers.Binary;
using System.Text;
using VulkanCnn.Imaging;
using VulkanCnn.Tests.Infrastructure;

namespace VulkanCnn.Tests.Imaging;

/// <summary>.npy reading against files written by NumPy 1.24 (tests/assets/npy/make_npy.py), writing
/// byte-for-byte as NumPy does, and hostile or unsupported headers.</summary>
public sealed class NpyFileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vkcnn-npy-" + Guid.NewGuid().ToString("N"));

    public NpyFileTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Fixture(string name) => Repo.PathOf("tests", "assets", "npy", name);

    // make_npy.py's ramp: value(i) = i * 0.25 - 3 over the flat C-order index.
    private static float[] Ramp(int count) => Enumerable.Range(0, count).Select(i => i * 0.25f - 3).ToArray();

    [Theory]
    [InlineData("f4_2x3.npy", new[] { 2, 3 })]
    [InlineData("f4_2x3x4x5.npy", new[] { 2, 3, 4, 5 })]
    [InlineData("f4_vector5.npy", new[] { 5 })]
    [InlineData("f4_v2_3x2.npy", new[] { 3, 2 })]   // format version 2.0
    [InlineData("f4_empty_0x3.npy", new[] { 0, 3 })]
    public void Float32_files_written_by_numpy_read_back(string file, int[] shape)
    {
        var array = NpyFile.ReadFloat32(Fixture(file));
        Assert.Equal(shape, array.Shape);
        Assert.Equal(Ramp(shape.Aggregate(1, (a, d) => a * d)), array.Data);
    }

    [Fact]
    public void Headers_report_version_type_and_shape()
    {
        var v2 = NpyFile.ReadHeader(Fixture("f4_v2_3x2.npy"));
        Assert.Equal((2, NpyDataType.Float32, 24L), (v2.Version, v2.DataType, v2.ElementCount * v2.ElementSize));
        Assert.Equal(128, v2.DataOffset);  // 12-byte prefix + header padded to a 64-byte boundary
        var v1 = NpyFile.ReadHeader(Fixture("i8_4.npy"));
        Assert.Equal((1, NpyDataType.Int64), (v1.Version, v1.DataType));
        Assert.Equal([4], v1.Shape);
        Assert.Equal("(4,)", v1.ShapeText);
    }

    [Fact]
    public void A_scalar_has_an_empty_shape()
    {
        var scalar = NpyFile.ReadFloat32(Fixture("f4_scalar.npy"));
        Assert.Empty(scalar.Shape);
        Assert.Equal([3.5f], scalar.Data);
        Assert.Equal(new TensorShape(1), scalar.ToTensorShape());
    }

    [Fact]
    public void Integer_and_float64_files_read_with_conversion()
    {
        var i4 = NpyFile.ReadInt32(Fixture("i4_2x3.npy"));
        Assert.Equal([2, 3], i4.Shape);
        Assert.Equal([-2, -1, 0, 1, 2, 3], i4.Data);
        Assert.Equal([-2L, -1, 0, 1, 2, 3], NpyFile.ReadInt64(Fixture("i4_2x3.npy")).Data);
        Assert.Equal([-(1L << 40), -1, 0, 7], NpyFile.ReadInt64(Fixture("i8_4.npy")).Data);
        Assert.Equal([-5, 0, 9], NpyFile.ReadInt32(Fixture("i8_small_3.npy")).Data);
        var e = Assert.Throws<NpyFormatException>(() => NpyFile.ReadInt32(Fixture("i8_4.npy")));
        Assert.Contains("-1099511627776", e.Message);
        Assert.Equal(Ramp(4), NpyFile.ReadAsFloat32(Fixture("f8_2x2.npy")).Data);
        Assert.Equal([-5f, 0, 9], NpyFile.ReadAsFloat32(Fixture("i8_small_3.npy")).Data);
        Assert.Equal([2, 3], NpyFile.ReadAsFloat32(Fixture("i4_2x3.npy")).ToTensorShape().Dimensions.ToArray());
    }

    [Theory]
    [InlineData("f4_fortran_2x3.npy", "Fortran")]
    [InlineData("f4_bigendian_3.npy", "big-endian")]
    [InlineData("u1_3.npy", "'|u1' is not supported")]
    public void Unsupported_layouts_and_types_are_refused_by_name(string file, string why)
    {
        var e = Assert.Throws<NpyFormatException>(() => NpyFile.ReadAsFloat32(Fixture(file)));
        Assert.Contains(why, e.Message);
        Assert.Contains(file, e.Message);
    }

    [Fact]
    public void Reading_the_wrong_type_names_what_the_file_holds()
    {
        var e = Assert.Throws<NpyFormatException>(() => NpyFile.ReadFloat32(Fixture("f8_2x2.npy")));
        Assert.Contains("Float64 (2, 2)", e.Message);
        Assert.Contains("expected float32", e.Message);
        Assert.Throws<NpyFormatException>(() => NpyFile.ReadInt64(Fixture("f4_2x3.npy")));
    }

    [Fact]
    public void Written_files_match_numpy_byte_for_byte()
    {
        string path = Path.Combine(_dir, "w.npy");
        NpyFile.WriteFloat32(path, Ramp(6), [2, 3]);
        Assert.Equal(File.ReadAllBytes(Fixture("f4_2x3.npy")), File.ReadAllBytes(path));
        NpyFile.WriteFloat32(path, Ramp(5), [5]);
        Assert.Equal(File.ReadAllBytes(Fixture("f4_vector5.npy")), File.ReadAllBytes(path));
        NpyFile.WriteFloat32(path, [3.5f], []);
        Assert.Equal(File.ReadAllBytes(Fixture("f4_scalar.npy")), File.ReadAllBytes(path));
        NpyFile.WriteFloat32(path, [], [0, 3]);
        Assert.Equal(File.ReadAllBytes(Fixture("f4_empty_0x3.npy")), File.ReadAllBytes(path));
    }

    [Theory]
    [InlineData(new[] { 1, 3, 7, 5 })]
    [InlineData(new[] { 4 })]
    [InlineData(new int[0])]
    [InlineData(new[] { 2, 0, 3 })]
    [InlineData(new[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2 })]
    public void Round_trips_keep_shape_and_bits(int[] shape)
    {
        int count = shape.Aggregate(1, (a, d) => a * d);
        var random = new Random(count);
        float[] data = Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2e6 - 1e6)).ToArray();
        if (count > 2) { data[0] = float.NaN; data[1] = float.NegativeInfinity; data[2] = -0f; }
        var stream = new MemoryStream();
        NpyFile.WriteFloat32(stream, data, shape);
        Assert.Equal(0, (stream.Length - count * 4) % 64);  // data starts on a 64-byte boundary
        stream.Position = 0;
        var back = NpyFile.ReadFloat32(stream);
        Assert.Equal(shape, back.Shape);
        Assert.Equal(data.Select(BitConverter.SingleToInt32Bits), back.Data.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(stream.Length, stream.Position);
    }

    [Fact]
    public void Writing_checks_the_shape_against_the_data()
    {
        var e = Assert.Throws<ArgumentException>(() => NpyFile.WriteFloat32(new MemoryStream(), new float[5], [2, 3]));
        Assert.Contains("[2, 3] holds 6 values; data has 5", e.Message);
        Assert.Throws<ArgumentException>(() => NpyFile.WriteFloat32(new MemoryStream(), new float[0], [-1]));
    }

    /// <summary>A .npy file with the given header dict (padded as NumPy pads it) and data bytes.</summary>
    private static byte[] Npy(string dict, int dataBytes, int major = 1, long? claimedLength = null)
    {
        int prefix = major == 1 ? 10 : 12;
        int padded = (prefix + dict.Length + 1 + 63) / 64 * 64 - prefix;
        byte[] header = Encoding.ASCII.GetBytes(dict.PadRight(padded - 1) + "\n");
        var bytes = new byte[prefix + header.Length + dataBytes];
        byte[] magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0];
        magic.CopyTo(bytes, 0);
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)(claimedLength ?? header.Length));
        else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)(claimedLength ?? header.Length));
        header.CopyTo(bytes, prefix);
        return bytes;
    }

    private const string Good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

    public static TheoryData<string, byte[], string> Malformed() => new()
    {
        { "bad magic", [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'X', 1, 0, 0, 0], "magic" },
        { "too short", [0x93, (byte)'N', (byte)'U'], "too short" },
        { "version 4.0", Npy(Good, 24, major: 4), "version 4.0" },
        { "header past end", Npy(Good, 24, claimedLength: 60000), "runs past the end" },
        { "v2 header of 4 GB", Npy(Good, 24, major: 2, claimedLength: uint.MaxValue), "exceeds the 65536-byte limit" },
        { "data truncated", Npy(Good, 20), "needs 24 data bytes but only 20" },
        { "billion elements", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000,), }", 8),
            "needs 4000000000 data bytes but only 8" },
        { "too many elements", Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000, 100000), }", 8),
            "more elements than an array can hold" },
        { "dimension beyond int", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,), }", 8), "larger than 2147483647" },
        { "negative dimension", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 8), "non-negative integer" },
        { "shape not a tuple", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", 12), "must be a tuple" },
        { "missing shape", Npy("{'descr': '<f4', 'fortran_order': False, }", 4), "must define" },
        { "unknown key", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1, }", 4), "unexpected key 'x'" },
        { "duplicate key", Npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 4), "appears twice" },
        { "structured dtype", Npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", 4), "structured dtypes" },
        { "unterminated string", Npy("{'descr': '<f4", 4), "unterminated string" },
        { "missing comma", Npy("{'descr': '<f4' 'fortran_order': False, 'shape': (1,), }", 4), "expected '}'" },
        { "text after dict", Npy(Good + " extra", 24), "after the header dict" },
        { "fortran_order not bool", Npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", 24), "True or False" },
        { "too many dimensions",
            Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (" + string.Concat(Enumerable.Repeat("1, ", 65)) + "), }", 4),
                "more than 64 dimensions" },
        { "trailing bytes", Npy(Good, 28), "4 unexpected bytes after the array data" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_headers_raise_a_typed_exception_without_large_allocations(string name, byte[] bytes, string why)
    {
        string path = Path.Combine(_dir, name.Replace(' ', '_') + ".npy");
        File.WriteAllBytes(path, bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<NpyFormatException>(() => NpyFile.ReadFloat32(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains(why, e.Message);
        Assert.Equal(path, e.SourceName);
        Assert.True(allocated < 1 << 20, $"{name}: allocated {allocated:N0} bytes before refusing");
    }

    [Fact]
    public void A_stream_of_unknown_length_cannot_make_the_reader_allocate_what_the_header_claims()
    {
        byte[] bytes = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (500000000,), }", 16);
        using var pipe = new NonSeekable(bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<NpyFormatException>(() => NpyFile.ReadFloat32(pipe, "pipe"));
        Assert.Contains("truncated", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4 << 20);
        using var good = new NonSeekable(File.ReadAllBytes(Fixture("f4_2x3x4x5.npy")));
        Assert.Equal(Ramp(120), NpyFile.ReadFloat32(good, "pipe").Data);
    }

    private sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => base.Position; set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin loc) => throw new NotSupportedException();
    }
}
