namespace VulkanCnn.Vulkan;

/// <summary>How a kernel touches one storage-buffer binding, read from its SPIR-V.</summary>
[Flags]
public enum BufferAccess
{
    None = 0,
    Read = 1,
    Write = 2,
    ReadWrite = Read | Write,
}

/// <summary>
/// Reads what each descriptor binding (set 0) of a SPIR-V compute module may do: a binding whose every
/// variable is <c>readonly</c> (NonWritable, on the variable or on all members of its block) is only
/// read, a <c>writeonly</c> one only written, anything else both. Recordings put barriers only between
/// commands whose accesses conflict (<see cref="CommandRecording"/>), so a binding that is not declared
/// <c>readonly</c> costs a barrier, never correctness.
/// </summary>
internal static class BindingAccess
{
    private const uint OpTypeStruct = 30, OpTypePointer = 32, OpVariable = 59, OpDecorate = 71, OpMemberDecorate = 72;
    private const uint Binding = 33, DescriptorSet = 34, NonWritable = 24, NonReadable = 25;

    /// <summary>Access per binding 0 … <paramref name="bindings"/> − 1; a binding the module does not use is <see cref="BufferAccess.None"/>.</summary>
    public static BufferAccess[] Read(byte[] spirv, int bindings, string shader)
    {
        var words = new uint[spirv.Length / 4];
        Buffer.BlockCopy(spirv, 0, words, 0, words.Length * 4);
        var bindingOf = new Dictionary<uint, uint>();
        var setOf = new Dictionary<uint, uint>();
        var varFlags = new Dictionary<uint, (bool NoWrite, bool NoRead)>();
        var memberFlags = new Dictionary<uint, List<(uint Member, uint Decoration)>>();
        var memberCount = new Dictionary<uint, int>();
        var pointee = new Dictionary<uint, uint>();
        var variableType = new Dictionary<uint, uint>();
        for (int i = 5; i < words.Length;)
        {
            uint count = words[i] >> 16, op = words[i] & 0xFFFF;
            if (count == 0 || i + count > words.Length) throw new InvalidDataException($"Shader '{shader}': malformed SPIR-V instruction at word {i}.");
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
                    memberCount[words[i + 1]] = (int)count - 2;
                    break;
                case OpTypePointer when count >= 4:
                    pointee[words[i + 1]] = words[i + 3];
                    break;
                case OpVariable when count >= 4:
                    variableType[words[i + 2]] = words[i + 1];
                    break;
            }
            i += (int)count;
        }

        var access = new BufferAccess[bindings];
        foreach (var (variable, binding) in bindingOf)
        {
            if (setOf.GetValueOrDefault(variable) != 0 || binding >= bindings) continue;
            var (noWrite, noRead) = varFlags.GetValueOrDefault(variable);
            if (variableType.TryGetValue(variable, out var ptr) && pointee.TryGetValue(ptr, out var block) && memberCount.TryGetValue(block, out int members))
            {
                var decorations = memberFlags.GetValueOrDefault(block) ?? [];
                noWrite |= members > 0 && Enumerable.Range(0, members).All(m => decorations.Contains(((uint)m, NonWritable)));
                noRead |= members > 0 && Enumerable.Range(0, members).All(m => decorations.Contains(((uint)m, NonReadable)));
            }
            access[binding] |= (noRead ? BufferAccess.None : BufferAccess.Read) | (noWrite ? BufferAccess.None : BufferAccess.Write);
        }
        return access;
    }
}
