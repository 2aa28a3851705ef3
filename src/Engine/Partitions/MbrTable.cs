using System.Buffers.Binary;
using RestoreTools.Engine.Disks;

namespace RestoreTools.Engine.Partitions;

/// <summary>
/// DOS/MBR partition table: four primary entries at offset 446 (0x1BE) of sector 0, and a chain of
/// extended boot records (EBRs) for logical partitions. Walks the chain as the Linux kernel and
/// libblkid do (block/partitions/msdos.c, libblkid dos.c), numbering logical partitions from 5.
/// </summary>
public static class MbrTable
{
    public const string Label = "dos";

    private const int TableOffset = 0x1be;
    private const int DiskSignatureOffset = 0x1b8; // 440: 32-bit disk id ("label-id" in sfdisk)
    private const int MaxLogical = 252;            // kernel limit: 256 minors minus the 4 primaries
    private const int MaxEbrsWithoutData = 100;    // same bound as the kernel and libblkid

    private readonly record struct RawEntry(byte BootIndicator, byte Type, uint Start, uint Size);

    /// <summary>
    /// Reads the MBR in sector 0. Null when it is none: no 0x55AA at offset 510, a boot indicator
    /// other than 0x00/0x80 (the kernel's test), or a FAT/NTFS/exFAT boot sector of an unpartitioned
    /// filesystem (libblkid's test). A protective MBR is returned as is, with its 0xee entry.
    /// </summary>
    public static PartitionTable? TryRead(IBlockReader reader)
    {
        var mbr = reader.TryRead(0, 512);
        if (mbr == null || !HasBootSignature(mbr)) return null;
        var entries = ParseEntries(mbr);
        if (entries.Any(e => e.BootIndicator is not (0x00 or 0x80))) return null;
        if (LooksLikeFilesystemBootSector(mbr)) return null;

        int ss = reader.SectorSize;
        long diskSectors = reader.Length / ss;
        uint diskId = BinaryPrimitives.ReadUInt32LittleEndian(mbr.AsSpan(DiskSignatureOffset));
        var warnings = new List<string>();
        var parts = new List<PartitionEntry>();

        for (int i = 0; i < 4; i++)
        {
            var e = entries[i];
            if (e.Size == 0) continue; // empty slot; its number is not reused (kernel, blkid, sfdisk)
            // The extended container is listed with its real extent, as sfdisk -d does.
            parts.Add(Make(i + 1, e, e.Start, ss, diskId));
            if (e.Start + (long)e.Size > diskSectors)
                warnings.Add($"partition {i + 1} ends at sector {e.Start + (long)e.Size - 1}, past the end of the disk ({diskSectors} sectors)");
        }

        int next = 5;
        for (int i = 0; i < 4; i++)
        {
            var e = entries[i];
            if (e.Size != 0 && PartitionTypes.IsMbrExtended(e.Type))
                WalkExtended(reader, e.Start, e.Size, ss, diskId, parts, warnings, ref next);
        }

        return new PartitionTable(Label, $"0x{diskId:x8}", parts, warnings) { SectorSize = ss };
    }

    /// <summary>True when a valid MBR has a type 0xee entry, i.e. the disk is (claims to be) GPT.</summary>
    public static bool IsProtective(PartitionTable mbr) =>
        mbr.Label == Label && mbr.Partitions.Any(p => p.Number <= 4 && p.Type == FormatType(PartitionTypes.MbrGptProtective));

    public static string FormatType(byte type) => $"0x{type:x2}";

    /// <summary>
    /// Follows the EBR chain of one extended partition. In each EBR, the first non-extended
    /// non-empty entry is a logical partition (start relative to this EBR); the first extended
    /// entry links to the next EBR (start relative to the extended partition's start).
    /// </summary>
    private static void WalkExtended(IBlockReader reader, uint extStart, uint extSize, int ss, uint diskId,
        List<PartitionEntry> parts, List<string> warnings, ref int next)
    {
        long curStart = extStart, curSize = extSize;
        var visited = new HashSet<long>();
        int withoutData = 0;
        bool firstEbr = true;

        while (true)
        {
            if (!visited.Add(curStart))
            {
                warnings.Add($"EBR chain loops back to sector {curStart}; stopped");
                return;
            }
            if (++withoutData > MaxEbrsWithoutData)
            {
                warnings.Add($"EBR chain has more than {MaxEbrsWithoutData} records without a partition; stopped");
                return;
            }
            var ebr = reader.TryRead(curStart * ss, 512);
            if (ebr == null)
            {
                warnings.Add($"EBR at sector {curStart} is past the end of the disk");
                return;
            }
            if (!HasBootSignature(ebr))
            {
                // An empty extended partition may have no EBR at all; a broken link is worth a word.
                if (!firstEbr) warnings.Add($"EBR at sector {curStart} has no 0x55AA signature; chain ends there");
                return;
            }
            firstEbr = false;
            var entries = ParseEntries(ebr);

            for (int i = 0; i < 4; i++)
            {
                var e = entries[i];
                if (e.Size == 0 || PartitionTypes.IsMbrExtended(e.Type)) continue;
                long absStart = curStart + e.Start;
                // Entries 3 and 4 of an EBR are often garbage: accept them only inside the container.
                if (i >= 2 && (e.Start + (long)e.Size > curSize || absStart < extStart
                               || absStart + e.Size > (long)extStart + extSize))
                    continue;
                if (parts.Count(p => p.Number >= 5) >= MaxLogical)
                {
                    warnings.Add($"more than {MaxLogical} logical partitions; stopped");
                    return;
                }
                parts.Add(Make(next, e, absStart, ss, diskId));
                if (absStart + e.Size > (long)extStart + extSize)
                    warnings.Add($"logical partition {next} extends past its extended partition");
                next++;
                withoutData = 0;
            }

            int link = Array.FindIndex(entries, e => e.Size != 0 && PartitionTypes.IsMbrExtended(e.Type));
            if (link < 0) return;
            curStart = extStart + (long)entries[link].Start;
            curSize = entries[link].Size;
        }
    }

    private static PartitionEntry Make(int number, RawEntry e, long start, int ss, uint diskId) =>
        new(Number: number,
            StartSector: start,
            SectorCount: e.Size,
            SectorSize: ss,
            Type: FormatType(e.Type),
            TypeName: PartitionTypes.MbrName(e.Type),
            Name: null,
            // blkid's PART_ENTRY_UUID: "%.33s-%02x" of the disk id and the number (hex), none without an id.
            Uuid: diskId == 0 ? null : $"{diskId:x8}-{number:x2}")
        {
            Attributes = e.BootIndicator,
        };

    private static bool HasBootSignature(byte[] sector) => sector[510] == 0x55 && sector[511] == 0xaa;

    // Entry layout: boot indicator (0), CHS start (1-3), type (4), CHS end (5-7), LBA start (8), sectors (12).
    private static RawEntry[] ParseEntries(byte[] sector)
    {
        var result = new RawEntry[4];
        for (int i = 0; i < 4; i++)
        {
            var s = sector.AsSpan(TableOffset + 16 * i, 16);
            result[i] = new RawEntry(s[0], s[4],
                BinaryPrimitives.ReadUInt32LittleEndian(s[8..]),
                BinaryPrimitives.ReadUInt32LittleEndian(s[12..]));
        }
        return result;
    }

    // A filesystem written to the whole disk also ends its boot sector with 0x55AA. Recognise the
    // x86 jump (0xEB xx 0x90 or 0xE9) plus the OEM id (offset 3) or the FAT type string (0x36 for
    // FAT12/16, 0x52 for FAT32), as blkid does before it believes in a DOS table.
    private static bool LooksLikeFilesystemBootSector(byte[] s)
    {
        bool jump = (s[0] == 0xeb && s[2] == 0x90) || s[0] == 0xe9;
        if (!jump) return false;
        var oem = s.AsSpan(3, 8);
        // BitLocker keeps NTFS's boot sector with its own OEM id.
        if (oem.SequenceEqual("NTFS    "u8) || oem.SequenceEqual("EXFAT   "u8) || oem.SequenceEqual("-FVE-FS-"u8)) return true;
        return s.AsSpan(0x36, 3).SequenceEqual("FAT"u8) || s.AsSpan(0x52, 5).SequenceEqual("FAT32"u8);
    }
}
