using Google.Protobuf;
using Onnx;

namespace VulkanCnn.Onnx;

/// <summary>
/// Reads what <see cref="OnnxImporter.Inspect"/> reports — IR version, producer, opsets, nodes, inputs, outputs and the
/// initializers' names, types and dims — without parsing the weights: tensor data (raw_data, float_data …) is skipped
/// over, so inspecting a model (or finding its input names before a load) costs a scan of its bytes, not a parse.
/// </summary>
internal static class OnnxHeaderReader
{
    public static ModelProto Read(byte[] bytes)
    {
        var model = new ModelProto();
        var input = new CodedInputStream(bytes);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case ModelProto.IrVersionFieldNumber: model.IrVersion = input.ReadInt64(); break;
                case ModelProto.ProducerNameFieldNumber: model.ProducerName = input.ReadString(); break;
                case ModelProto.ProducerVersionFieldNumber: model.ProducerVersion = input.ReadString(); break;
                case ModelProto.OpsetImportFieldNumber:
                    model.OpsetImport.Add(OperatorSetIdProto.Parser.ParseFrom(Field(bytes, input, tag).Span));
                    continue;
                case ModelProto.GraphFieldNumber:
                    model.Graph = Graph(bytes, Field(bytes, input, tag));
                    continue;
                default: input.SkipLastField(); break;
            }
        }
        return model;
    }

    private static GraphProto Graph(byte[] bytes, ReadOnlyMemory<byte> field)
    {
        var graph = new GraphProto();
        var input = new CodedInputStream(bytes, Offset(bytes, field), field.Length);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case GraphProto.NameFieldNumber: graph.Name = input.ReadString(); break;
                case GraphProto.NodeFieldNumber: graph.Node.Add(NodeProto.Parser.ParseFrom(Field(bytes, input, tag).Span)); continue;
                case GraphProto.InputFieldNumber: graph.Input.Add(ValueInfoProto.Parser.ParseFrom(Field(bytes, input, tag).Span)); continue;
                case GraphProto.OutputFieldNumber:
                    graph.Output.Add(ValueInfoProto.Parser.ParseFrom(Field(bytes, input, tag).Span));
                    continue;
                case GraphProto.InitializerFieldNumber: graph.Initializer.Add(TensorHeader(bytes, Field(bytes, input, tag))); continue;
                default: input.SkipLastField(); break;
            }
        }
        return graph;
    }

    /// <summary>A tensor's name, type and dims; its data skipped.</summary>
    private static TensorProto TensorHeader(byte[] bytes, ReadOnlyMemory<byte> field)
    {
        var tensor = new TensorProto();
        var input = new CodedInputStream(bytes, Offset(bytes, field), field.Length);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case TensorProto.DimsFieldNumber when WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint:
                    tensor.Dims.Add(input.ReadInt64());
                    break;
                case TensorProto.DimsFieldNumber:
                    tensor.Dims.Add(RepeatedDims(bytes, Field(bytes, input, tag)));
                    continue;
                case TensorProto.DataTypeFieldNumber: tensor.DataType = input.ReadInt32(); break;
                case TensorProto.NameFieldNumber: tensor.Name = input.ReadString(); break;
                default: input.SkipLastField(); break;
            }
        }
        return tensor;
    }

    private static IEnumerable<long> RepeatedDims(byte[] bytes, ReadOnlyMemory<byte> field)
    {
        var input = new CodedInputStream(bytes, Offset(bytes, field), field.Length);
        var dims = new List<long>();
        while (!input.IsAtEnd) dims.Add(input.ReadInt64());
        return dims;
    }

    /// <summary>The length-delimited field just tagged, as a slice of <paramref name="bytes"/>; the stream moves past it.</summary>
    private static ReadOnlyMemory<byte> Field(byte[] bytes, CodedInputStream input, uint tag)
    {
        if (WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
            throw new InvalidDataException($"field {WireFormat.GetTagFieldNumber(tag)} is not length-delimited");
        long start = input.Position;
        int length = 0, shift = 0, at = (int)start;
        while (true)
        {
            if (at >= bytes.Length || shift > 28) throw new InvalidDataException("a field length is truncated");
            byte b = bytes[at++];
            length |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) break;
            shift += 7;
        }
        if (length < 0 || at + (long)length > bytes.Length) throw new InvalidDataException("a field runs past the end");
        input.SkipLastField();
        return new ReadOnlyMemory<byte>(bytes, at, length);
    }

    private static int Offset(byte[] bytes, ReadOnlyMemory<byte> field) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(field, out var segment) ? segment.Offset : 0;
}
