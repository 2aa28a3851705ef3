using RestoreTools.Engine.Disks;

namespace RestoreTools.Engine.Partitions;

/// <summary>Finds and parses the partition table of a disk or disk image in user space.</summary>
public static class PartitionTableReader
{
    /// <summary>
    /// GPT when a protective MBR or a valid GPT header (primary, or backup when the primary is
    /// damaged) is found; else a DOS/MBR table; else null (no partition table: blank disk, garbage,
    /// or a filesystem written to the whole disk).
    /// <para>
    /// Error policy: a table that is damaged but still readable is returned with
    /// <see cref="PartitionTable.Warnings"/> (GPT read from its backup, EBR loop cut short,
    /// partitions past the end of a truncated image). <see cref="InvalidDataException"/> is thrown
    /// only when the disk claims a GPT (protective MBR or "EFI PART" signature) and neither GPT
    /// header with its entry array is valid; the message says what is wrong with both. It concerns
    /// this disk only; callers should report it and go on with other disks.
    /// </para>
    /// </summary>
    public static PartitionTable? Read(IBlockReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);

        var gpt = GptTable.TryRead(reader, out var gptProblem, out bool gptFromBackup);
        var mbr = MbrTable.TryRead(reader);
        bool protective = mbr != null && MbrTable.IsProtective(mbr);

        // A disk re-partitioned as DOS by a tool that left the old backup GPT at the end: the
        // live table is the MBR (the kernel and libfdisk also ignore GPT without a 0xee entry).
        if (gpt != null && gptFromBackup && mbr != null && !protective && mbr.Partitions.Count > 0)
            return mbr with { Warnings = [.. mbr.Warnings, "ignored a stale backup GPT at the end of the disk; the primary GPT is gone and sector 0 holds a DOS table"] };

        if (gpt != null)
        {
            // The kernel wants a protective MBR too; sfdisk and blkid still read such a disk.
            if (mbr == null)
                return gpt with { Warnings = [.. gpt.Warnings, "GPT without a protective MBR in sector 0"] };
            if (!protective)
                return gpt with { Warnings = [.. gpt.Warnings, "sector 0 holds a DOS table without a 0xee entry; the GPT is used"] };
            return gpt;
        }

        if (protective)
            throw new InvalidDataException(
                $"Protective MBR (type 0xee) found but the GPT cannot be read: {gptProblem ?? "no \"EFI PART\" header at LBA 1 or at the end of the disk"}");

        if (gptProblem != null)
        {
            if (mbr != null)
                return mbr with { Warnings = [.. mbr.Warnings, $"ignored a damaged GPT: {gptProblem}"] };
            throw new InvalidDataException(gptProblem);
        }

        return mbr;
    }
}
