using System.Buffers.Binary;
using System.Text;
using RestoreTools.Engine.Disks;

namespace RestoreTools.Engine.Partitions;

/// <summary>
/// GUID partition table (UEFI spec, chapter 5.3). The primary header sits at LBA 1 and the backup
/// header normally at the last LBA; each has its own copy of the entry array and CRC-32s.
/// </summary>
public static class GptTable
{
    public const string Label = "gpt";

    private static ReadOnlySpan<byte> Signature => "EFI PART"u8;

    // Header size (offset 12) is 92 in every revision so far; it may be larger but fits one sector.
    private const int MinHeaderSize = 92;
    // Refuse absurd entry arrays (the usual one is 128 x 128 bytes = 16 KiB).
    private const long MaxEntryArrayBytes = 32L * 1024 * 1024;

    /// <summary>Linux's DISK_MAX_PARTS: a disk cannot have more partitions, whatever its entry array says.</summary>
    public const int MaxPartitions = 256;

    private sealed record Header(
        long MyLba, long AlternateLba, long FirstUsableLba, long LastUsableLba,
        Guid DiskGuid, long EntriesLba, uint EntryCount, uint EntrySize, uint EntriesCrc);

    /// <summary>
    /// Reads a GPT, trying the reader's sector size first and then the other of 512/4096 (an image
    /// file of a 4Kn disk has no sector size of its own). Returns null when no usable GPT exists;
    /// <paramref name="problem"/> is then set if a GPT signature was seen but neither the primary
    /// nor the backup header (with its entry array) was valid.
    /// </summary>
    public static PartitionTable? TryRead(IBlockReader reader, out string? problem) =>
        TryRead(reader, out problem, out _);

    /// <summary>As above; <paramref name="fromBackup"/> tells that the primary was unusable.</summary>
    public static PartitionTable? TryRead(IBlockReader reader, out string? problem, out bool fromBackup)
    {
        problem = null;
        fromBackup = false;
        int first = reader.SectorSize == 4096 ? 4096 : 512;
        foreach (int ss in new[] { first, first == 512 ? 4096 : 512 })
        {
            var table = TryRead(reader, ss, out var p, out fromBackup);
            if (table != null)
            {
                problem = null;
                return table;
            }
            problem ??= p;
        }
        return null;
    }

    /// <summary>Reads a GPT addressed in sectors of <paramref name="ss"/> bytes.</summary>
    public static PartitionTable? TryRead(IBlockReader reader, int ss, out string? problem, out bool fromBackup)
    {
        problem = null;
        fromBackup = false;
        long lastLba = reader.Length / ss - 1;
        if (lastLba < 2) return null; // too small for PMBR + header + anything

        var warnings = new List<string>();
        var primary = ReadHeader(reader, ss, 1, lastLba, out var primaryRaw, out var primaryError);
        byte[]? entries = null;
        if (primary != null)
        {
            entries = ReadEntries(reader, ss, primary, out var entriesError);
            if (entries == null)
            {
                primaryError = entriesError;
                primary = null;
            }
        }

        Header? used = primary;
        if (used != null)
        {
            // Primary is good; still report a damaged backup since the disk is then one fault from loss.
            var alt = primary!.AlternateLba;
            if (alt <= 1 || alt > lastLba)
                warnings.Add($"GPT backup header LBA {alt} is outside the disk ({lastLba + 1} sectors of {ss} bytes); truncated image?");
            else if (ReadHeader(reader, ss, alt, lastLba, out _, out var backupError) is not { } b
                     || ReadEntries(reader, ss, b, out backupError) == null)
                warnings.Add($"GPT backup header at LBA {alt} is damaged: {backupError}");
        }
        else
        {
            // Backup location: the primary's AlternateLBA (offset 32) when its signature is intact,
            // else the last LBA of the device. Each candidate is fully validated (MyLBA, CRCs).
            var candidates = new List<long>();
            if (primaryRaw != null && primaryRaw.AsSpan(0, 8).SequenceEqual(Signature))
            {
                long hint = (long)BinaryPrimitives.ReadUInt64LittleEndian(primaryRaw.AsSpan(32));
                if (hint > 1 && hint <= lastLba) candidates.Add(hint);
            }
            if (!candidates.Contains(lastLba)) candidates.Add(lastLba);

            string? backupError = null;
            bool signatureSeen = primaryRaw != null && primaryRaw.AsSpan(0, 8).SequenceEqual(Signature);
            foreach (long lba in candidates)
            {
                var h = ReadHeader(reader, ss, lba, lastLba, out var raw, out var err);
                signatureSeen |= raw != null && raw.AsSpan(0, 8).SequenceEqual(Signature);
                var e = h == null ? null : ReadEntries(reader, ss, h, out err);
                if (h != null && e != null)
                {
                    used = h;
                    entries = e;
                    break;
                }
                backupError ??= $"LBA {lba}: {err}";
            }

            if (used == null)
            {
                // Only a disk that carries a GPT signature somewhere has a damaged GPT; else there is none.
                if (signatureSeen)
                    problem = $"GPT ({ss}-byte sectors) unreadable: primary header at LBA 1: {primaryError}; backup header {backupError}";
                return null;
            }
            fromBackup = true;
            warnings.Add($"GPT primary header or entry array at LBA 1 is damaged ({primaryError}); using the backup at LBA {used.MyLba}");
        }

        if (used.LastUsableLba > lastLba)
            warnings.Add($"GPT last usable LBA {used.LastUsableLba} is past the end of the disk (last LBA {lastLba}); truncated image?");

        var parts = ParseEntries(entries!, used, ss, lastLba, warnings);
        return new PartitionTable(Label, FormatGuid(used.DiskGuid), parts, warnings) { SectorSize = ss };
    }

    /// <summary>True when "EFI PART" is at LBA 1 for 512- or 4096-byte sectors (valid or not).</summary>
    public static bool HasSignature(IBlockReader reader) =>
        reader.TryRead(512, 8) is { } a && a.AsSpan().SequenceEqual(Signature) ||
        reader.TryRead(4096, 8) is { } b && b.AsSpan().SequenceEqual(Signature);

    private static Header? ReadHeader(IBlockReader reader, int ss, long lba, long lastLba, out byte[]? raw, out string? error)
    {
        raw = reader.TryRead(lba * ss, ss);
        if (raw == null) { error = "cannot read the sector"; return null; }
        var s = raw.AsSpan();
        if (!s[..8].SequenceEqual(Signature)) { error = "no \"EFI PART\" signature"; return null; }

        uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(s[12..]);
        if (headerSize < MinHeaderSize || headerSize > ss) { error = $"bad header size {headerSize}"; return null; }

        // Header CRC (offset 16) covers HeaderSize bytes with the CRC field itself taken as zero.
        uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(s[16..]);
        var copy = s[..(int)headerSize].ToArray();
        copy.AsSpan(16, 4).Clear();
        uint crc = Crc32.Compute(copy);
        if (crc != storedCrc) { error = $"header CRC mismatch (stored 0x{storedCrc:x8}, computed 0x{crc:x8})"; return null; }

        long myLba = (long)BinaryPrimitives.ReadUInt64LittleEndian(s[24..]);
        if (myLba != lba) { error = $"header says it is at LBA {myLba}"; return null; }

        var h = new Header(
            MyLba: myLba,
            AlternateLba: (long)BinaryPrimitives.ReadUInt64LittleEndian(s[32..]),
            FirstUsableLba: (long)BinaryPrimitives.ReadUInt64LittleEndian(s[40..]),
            LastUsableLba: (long)BinaryPrimitives.ReadUInt64LittleEndian(s[48..]),
            DiskGuid: new Guid(s.Slice(56, 16)),
            EntriesLba: (long)BinaryPrimitives.ReadUInt64LittleEndian(s[72..]),
            EntryCount: BinaryPrimitives.ReadUInt32LittleEndian(s[80..]),
            EntrySize: BinaryPrimitives.ReadUInt32LittleEndian(s[84..]),
            EntriesCrc: BinaryPrimitives.ReadUInt32LittleEndian(s[88..]));

        // Entry size is 128 x 2^n by the spec; anything else is corruption that slipped past the CRC.
        if (h.EntrySize < 128 || h.EntrySize > 4096 || (h.EntrySize & (h.EntrySize - 1)) != 0)
        { error = $"bad entry size {h.EntrySize}"; return null; }
        if ((long)h.EntryCount * h.EntrySize > MaxEntryArrayBytes)
        { error = $"entry array too large ({h.EntryCount} x {h.EntrySize})"; return null; }
        if (h.FirstUsableLba > h.LastUsableLba || h.FirstUsableLba < 0 || h.LastUsableLba < 0)
        { error = $"bad usable range {h.FirstUsableLba}..{h.LastUsableLba}"; return null; }
        if (h.EntriesLba < 2 || h.EntriesLba > lastLba)
        { error = $"entry array LBA {h.EntriesLba} outside the disk"; return null; }

        error = null;
        return h;
    }

    private static byte[]? ReadEntries(IBlockReader reader, int ss, Header h, out string? error)
    {
        int bytes = checked((int)(h.EntryCount * h.EntrySize));
        var data = reader.TryRead(h.EntriesLba * ss, bytes);
        if (data == null) { error = $"cannot read the entry array at LBA {h.EntriesLba}"; return null; }
        // Entry-array CRC (header offset 88) covers EntryCount x EntrySize bytes.
        uint crc = Crc32.Compute(data);
        if (crc != h.EntriesCrc) { error = $"entry array CRC mismatch (stored 0x{h.EntriesCrc:x8}, computed 0x{crc:x8})"; return null; }
        error = null;
        return data;
    }

    private static List<PartitionEntry> ParseEntries(byte[] entries, Header h, int ss, long lastLba, List<string> warnings)
    {
        var parts = new List<PartitionEntry>();
        for (int i = 0; i < h.EntryCount; i++)
        {
            var e = entries.AsSpan(i * (int)h.EntrySize, (int)h.EntrySize);
            var type = new Guid(e[..16]);
            if (type == Guid.Empty) continue; // unused slot; numbering still advances as in Linux/sfdisk

            int number = i + 1;
            if (parts.Count == MaxPartitions)
            {
                warnings.Add($"GPT has more than {MaxPartitions} partitions; the rest (from entry {number}) are ignored");
                break;
            }
            long firstLba = (long)BinaryPrimitives.ReadUInt64LittleEndian(e[32..]);
            long endLba = (long)BinaryPrimitives.ReadUInt64LittleEndian(e[40..]); // inclusive
            if (firstLba < 0 || endLba < firstLba)
            {
                warnings.Add($"GPT entry {number}: bad range {firstLba}..{endLba}, skipped");
                continue;
            }
            // Byte offsets must fit a long: the partition is probed and handed to BLKPG by bytes.
            if (endLba >= long.MaxValue / ss)
            {
                warnings.Add($"GPT entry {number}: range {firstLba}..{endLba} is beyond any disk, skipped");
                continue;
            }
            if (endLba > lastLba)
                warnings.Add($"GPT entry {number} ends at LBA {endLba}, past the end of the disk (last LBA {lastLba})");

            string typeString = FormatGuid(type);
            parts.Add(new PartitionEntry(
                Number: number,
                StartSector: firstLba,
                SectorCount: endLba - firstLba + 1,
                SectorSize: ss,
                Type: typeString,
                TypeName: PartitionTypes.GptName(typeString),
                Name: DecodeName(e.Slice(56, Math.Min(72, e.Length - 56))),
                Uuid: FormatGuid(new Guid(e.Slice(16, 16))))
            {
                Attributes = BinaryPrimitives.ReadUInt64LittleEndian(e[48..]),
            });
        }
        return parts;
    }

    // Name: 36 UTF-16LE code units at entry offset 56, NUL-terminated when shorter.
    private static string? DecodeName(ReadOnlySpan<byte> raw)
    {
        int len = 0;
        while (len + 1 < raw.Length && (raw[len] != 0 || raw[len + 1] != 0)) len += 2;
        return len == 0 ? null : Encoding.Unicode.GetString(raw[..len]);
    }

    // .NET's Guid(ReadOnlySpan<byte>) uses the same mixed-endian layout as GPT (first three
    // fields little-endian), so "D" gives blkid's PART_ENTRY_TYPE / PART_ENTRY_UUID text.
    private static string FormatGuid(Guid g) => g.ToString("D");
}
