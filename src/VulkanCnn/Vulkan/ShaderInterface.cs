namespace VulkanCnn.Vulkan;

/// <summary>How a kernel touches one storage-buffer binding, read from its SPIR-V.</summary>
[Flags]
internal enum BufferAccess
{
    None = 0,
    Read = 1,
    Write = 2,
    ReadWrite = Read | Write,
}

/// <summary>
/// What a SPIR-V compute module expects of its caller: the push-constant block's size, and what each descriptor binding (set 0) of a SPIR-V
/// compute module may do: a binding whose every
/// variable is <c>readonly</c> (NonWritable, on the variable or on all members of its block) is only
/// read, a <c>writeonly</c> one only written, anything else both. Recordings put barriers only between
/// commands whose accesses conflict (<see cref="CommandRecording"/>), so a binding that is not declared
/// <c>readonly</c> costs a barrier, never correctness.
/// </summary>
internal static class ShaderInterface
{
    private const uint OpTypeInt = 21, OpTypeFloat = 22, OpTypeVector = 23, OpTypeArray = 28, OpTypeRuntimeArray = 29, OpTypeStruct = 30,
        OpTypePointer = 32,
        OpConstant = 43, OpVariable = 59, OpDecorate = 71, OpMemberDecorate = 72;
    private const uint Binding = 33, DescriptorSet = 34, NonWritable = 24, NonReadable = 25, Offset = 35, ArrayStride = 6;
    private const uint PushConstant = 9;
    private const int CachedBindings = 64;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (int PushBytes, BufferAccess[] Access)> Cache =
        new(StringComparer.Ordinal);

    /// <summary>An embedded shader's push-constant size and the access of bindings 0 … <paramref name="bindings"/> − 1, read from
    /// its SPIR-V once per shader (many pipelines share one).</summary>
    public static (int PushConstantBytes, BufferAccess[] Access) Of(string shader, int bindings)
    {
        if (bindings > CachedBindings)
        {
            var spirv = ShaderLibrary.GetSpirv(shader);
            return (PushConstantBytes(spirv, shader), BindingAccess(spirv, bindings, shader));
        }
        var (push, access) = Cache.GetOrAdd(shader, static s =>
        {
            var spirv = ShaderLibrary.GetSpirv(s);
            return (PushConstantBytes(spirv, s), BindingAccess(spirv, CachedBindings, s));
        });
        return (push, access[..bindings]);
    }

    /// <summary>Bytes of the module's push-constant block (0 without one): the end of its last member, as laid out.</summary>
    public static int PushConstantBytes(byte[] spirv, string shader)
    {
        var words = Words(spirv);
        var scalar = new Dictionary<uint, int>();
        var vector = new Dictionary<uint, (uint Component, int Count)>();
        var array = new Dictionary<uint, (uint Element, uint Length)>();
        var structs = new Dictionary<uint, uint[]>();
        var constants = new Dictionary<uint, uint>();
        var offsets = new Dictionary<(uint, uint), int>();
        var strides = new Dictionary<uint, int>();
        var pointee = new Dictionary<uint, (uint Class, uint Type)>();
        uint block = 0;
        foreach (var (op, at, count) in Instructions(words, shader))
        {
            switch (op)
            {
                case OpTypeInt or OpTypeFloat: scalar[words[at + 1]] = (int)words[at + 2] / 8; break;
                case OpTypeVector: vector[words[at + 1]] = (words[at + 2], (int)words[at + 3]); break;
                case OpTypeArray: array[words[at + 1]] = (words[at + 2], words[at + 3]); break;
                case OpTypeStruct: structs[words[at + 1]] = words[(at + 2)..(at + count)]; break;
                case OpConstant when count >= 4: constants[words[at + 2]] = words[at + 3]; break;
                case OpMemberDecorate when count >= 5
                    && words[at + 3] == Offset:
                    offsets[(words[at + 1], words[at + 2])] = (int)words[at + 4]; break;
                case OpDecorate when count >= 4 && words[at + 2] == ArrayStride: strides[words[at + 1]] = (int)words[at + 3]; break;
                case OpTypePointer when count >= 4: pointee[words[at + 1]] = (words[at + 2], words[at + 3]); break;
                case OpVariable when count >= 4 && words[at + 3] == PushConstant: block = pointee[words[at + 1]].Type; break;
            }
        }
        int Size(uint type) =>
            scalar.TryGetValue(type, out int s) ? s
            : vector.TryGetValue(type, out var v) ? Size(v.Component) * v.Count
            : array.TryGetValue(type, out var a) ? strides.GetValueOrDefault(type, Size(a.Element)) * (int)constants[a.Length]
            : structs.TryGetValue(type, out var members)
                ? members.Select((m, i) => offsets.GetValueOrDefault((type, (uint)i)) + Size(m)).DefaultIfEmpty(0).Max()
            : throw new InvalidDataException($"Shader '{shader}': the push-constant block holds a type this reader does not size (id " +
                $"{type}).");
        return block == 0 ? 0 : Size(block);
    }

    private static uint[] Words(byte[] spirv)
    {
        var words = new uint[spirv.Length / 4];
        Buffer.BlockCopy(spirv, 0, words, 0, words.Length * 4);
        return words;
    }

    private static IEnumerable<(uint Op, int At, int Count)> Instructions(uint[] words, string shader)
    {
        for (int i = 5; i < words.Length;)
        {
            int count = (int)(words[i] >> 16);
            if (count == 0 || i + count > words.Length)
                throw new InvalidDataException($"Shader '{shader}': malformed SPIR-V instruction at word {i}.");
            yield return (words[i] & 0xFFFF, i, count);
            i += count;
        }
    }

    /// <summary>Access per binding 0 … <paramref name="bindings"/> − 1; a binding the module does not use is <see
    /// cref="BufferAccess.None"/>.</summary>
    public static BufferAccess[] BindingAccess(byte[] spirv, int bindings, string shader)
    {
        var words = Words(spirv);
        var bindingOf = new Dictionary<uint, uint>();
        var setOf = new Dictionary<uint, uint>();
        var varFlags = new Dictionary<uint, (bool NoWrite, bool NoRead)>();
        var memberFlags = new Dictionary<uint, List<(uint Member, uint Decoration)>>();
        var memberCount = new Dictionary<uint, int>();
        var pointee = new Dictionary<uint, uint>();
        var variableType = new Dictionary<uint, uint>();
        foreach (var (op, i, count) in Instructions(words, shader))
        {
            switch (op)
            {
                case OpDecorate when count >= 3:
                    uint target = words[i + 1], decoration = words[i + 2];
                    if (decoration == Binding && count >= 4) bindingOf[target] = words[i + 3];
                    else if (decoration == DescriptorSet && count >= 4) setOf[target] = words[i + 3];
                    else if (decoration is NonWritable or NonReadable)
                    {
                        var f = varFlags.GetValueOrDefault(target);
                        varFlags[target] = decoration == NonWritable ? f with { NoWrite = true } : f with { NoRead = true };
                    }
                    break;
                case OpMemberDecorate when count >= 4 && words[i + 3] is NonWritable or NonReadable:
                    if (!memberFlags.TryGetValue(words[i + 1], out var list)) memberFlags[words[i + 1]] = list = new();
                    list.Add((words[i + 2], words[i + 3]));
                    break;
                case OpTypeStruct:
                    memberCount[words[i + 1]] = count - 2;
                    break;
                case OpTypePointer when count >= 4:
                    pointee[words[i + 1]] = words[i + 3];
                    break;
                case OpVariable when count >= 4:
                    variableType[words[i + 2]] = words[i + 1];
                    break;
            }
        }

        var access = new BufferAccess[bindings];
        foreach (var (variable, binding) in bindingOf)
        {
            if (setOf.GetValueOrDefault(variable) != 0 || binding >= bindings) continue;
            var (noWrite, noRead) = varFlags.GetValueOrDefault(variable);
            if (variableType.TryGetValue(variable, out var ptr) && pointee.TryGetValue(ptr, out var block)
                && memberCount.TryGetValue(block, out int members))
            {
                var decorations = memberFlags.GetValueOrDefault(block) ?? [];
                noWrite |= members > 0 && Enumerable.Range(0, members).All(m => decorations.Contains(((uint)m, NonWritable)));
                noRead |= members > 0 && Enumerable.Range(0, members).All(m => decorations.Contains(((uint)m, NonReadable)));
            }
            access[binding] |= (noRead ? BufferAccess.None : BufferAccess.Read) | (noWrite ? BufferAccess.None : BufferAccess.Write);
        }
        return access;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int[]> ElementBytesCache =
        new(StringComparer.Ordinal);

    /// <summary>Bytes of one scalar of each binding's runtime array (2 for float16_t, 4 for float, int and uint; vectors count their
    /// component), read from an embedded shader's SPIR-V once. 0 where the binding is unused, has no runtime array, or aliases
    /// several widths: a tensor of another element size bound there is a caller's bug.</summary>
    public static int[] ElementBytes(string shader, int bindings)
    {
        var all = ElementBytesCache.GetOrAdd(shader, static s => BindingElementBytes(ShaderLibrary.GetSpirv(s), CachedBindings, s));
        return bindings <= all.Length ? all[..bindings] : [.. all, .. new int[bindings - all.Length]];
    }

    internal static int[] BindingElementBytes(byte[] spirv, int bindings, string shader)
    {
        var words = Words(spirv);
        var bindingOf = new Dictionary<uint, uint>();
        var setOf = new Dictionary<uint, uint>();
        var scalar = new Dictionary<uint, int>();
        var vector = new Dictionary<uint, uint>();
        var runtimeArray = new Dictionary<uint, uint>();
        var structs = new Dictionary<uint, uint[]>();
        var pointee = new Dictionary<uint, uint>();
        var variableType = new Dictionary<uint, uint>();
        foreach (var (op, i, count) in Instructions(words, shader))
        {
            switch (op)
            {
                case OpDecorate when count >= 4 && words[i + 2] == Binding: bindingOf[words[i + 1]] = words[i + 3]; break;
                case OpDecorate when count >= 4 && words[i + 2] == DescriptorSet: setOf[words[i + 1]] = words[i + 3]; break;
                case OpTypeInt or OpTypeFloat: scalar[words[i + 1]] = (int)words[i + 2] / 8; break;
                case OpTypeVector: vector[words[i + 1]] = words[i + 2]; break;
                case OpTypeRuntimeArray: runtimeArray[words[i + 1]] = words[i + 2]; break;
                case OpTypeStruct: structs[words[i + 1]] = words[(i + 2)..(i + count)]; break;
                case OpTypePointer when count >= 4: pointee[words[i + 1]] = words[i + 3]; break;
                case OpVariable when count >= 4: variableType[words[i + 2]] = words[i + 1]; break;
            }
        }
        int Scalar(uint type) => scalar.TryGetValue(type, out int s) ? s : vector.TryGetValue(type, out var c) ? Scalar(c) : 0;
        var result = new int[bindings];
        var seen = new bool[bindings];
        foreach (var (variable, binding) in bindingOf)
        {
            if (setOf.GetValueOrDefault(variable) != 0 || binding >= bindings) continue;
            int bytes = variableType.TryGetValue(variable, out var ptr) && pointee.TryGetValue(ptr, out var block)
                && structs.TryGetValue(block, out var members) && members.Length > 0
                && runtimeArray.TryGetValue(members[^1], out var element) ? Scalar(element) : 0;
            result[binding] = !seen[binding] || result[binding] == bytes ? bytes : 0;
            seen[binding] = true;
        }
        return result;
    }
}
