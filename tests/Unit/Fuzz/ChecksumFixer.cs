using System.Buffers.Binary;
using RestoreTools.Engine.Disks;
using RestoreTools.Engine.Partitions;

namespace RestoreTools.Tests.Unit.Fuzz;

/// <summary>
/// Recomputes the checksums that would otherwise stop nearly every mutated input at the first check:
/// GPT header and entry-array CRC-32s, the ext4 superblock crc32c, the LVM label CRC, the MD v1
/// superblock sum, the exFAT boot checksum and the EROFS superblock crc32c. The fixed bytes are laid
/// over the disk as new segments.
/// </summary>
public static class ChecksumFixer
{
    private const int MaxEntryArray = 1 << 20;

    public static void Fix(FuzzDisk d)
    {
        var writes = new List<(long, byte[])>();
        var r = d.Reader();
        FixGpt(r, writes);
        FixExt4(r, writes);
        FixLvm(r, writes);
        FixMd(r, writes);
        FixExfat(r, writes);
        FixErofs(r, writes);
        d.Segments.AddRange(writes);
    }

    private static void FixGpt(IBlockReader r, List<(long, byte[])> writes)
    {
        foreach (int ss in new[] { 512, 4096 })
        {
            long last = r.Length / ss - 1;
            if (last < 2) continue;
            var lbas = new List<long> { 1, last };
            if (r.TryRead(ss, ss) is { } primary && primary.AsSpan(0, 8).SequenceEqual("EFI PART"u8))
            {
                long alt = BinaryPrimitives.ReadInt64LittleEndian(primary.AsSpan(32));
                if (alt > 1 && alt <= last) lbas.Add(alt);
            }
            foreach (long lba in lbas.Distinct())
            {
                if (r.TryRead(lba * ss, ss) is not { } h || !h.AsSpan(0, 8).SequenceEqual("EFI PART"u8)) continue;
                int size = (int)Math.Clamp(BinaryPrimitives.ReadUInt32LittleEndian(h.AsSpan(12)), 92u, (uint)ss);
                long entriesLba = BinaryPrimitives.ReadInt64LittleEndian(h.AsSpan(72));
                long bytes = (long)BinaryPrimitives.ReadUInt32LittleEndian(h.AsSpan(80)) * BinaryPrimitives.ReadUInt32LittleEndian(h.AsSpan(84));
                if (entriesLba > 0 && entriesLba <= last && bytes <= MaxEntryArray
                    && r.TryRead(entriesLba * ss, (int)bytes) is { } entries)
                    BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(88), Crc32.Compute(entries));
                h.AsSpan(16, 4).Clear();
                BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(16), Crc32.Compute(h.AsSpan(0, size)));
                writes.Add((lba * ss, h));
            }
        }
    }

    private static void FixExt4(IBlockReader r, List<(long, byte[])> writes)
    {
        if (r.TryRead(1024, 1024) is not { } sb || BinaryPrimitives.ReadUInt16LittleEndian(sb.AsSpan(0x38)) != 0xEF53) return;
        writes.Add((1024 + 0x3FC, Le32(Crc32c(~0u, sb.AsSpan(0, 0x3FC)))));
    }

    private static void FixLvm(IBlockReader r, List<(long, byte[])> writes)
    {
        for (int sector = 0; sector < 4; sector++)
        {
            if (r.TryRead(sector * 512L, 512) is not { } label || !label.AsSpan(0, 8).SequenceEqual("LABELONE"u8)) continue;
            uint crc = 0xf597a6cf;
            foreach (byte b in label.AsSpan(20))
            {
                crc ^= b;
                for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
            writes.Add((sector * 512L + 16, Le32(crc)));
        }
    }

    private static void FixMd(IBlockReader r, List<(long, byte[])> writes)
    {
        foreach (long off in new[] { 0L, 0x1000L, (r.Length & ~0xFFFL) - 0x2000 })
        {
            if (off < 0 || r.TryRead(off, 256) is not { } sb || BinaryPrimitives.ReadUInt32LittleEndian(sb) != 0xa92b4efc) continue;
            uint maxDev = Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(220)), 1920u);
            if (r.TryRead(off, 256 + (int)maxDev * 2) is not { } full) continue;
            ulong sum = 0;
            int i = 0;
            for (; i + 4 <= full.Length; i += 4) sum += i == 216 ? 0 : BinaryPrimitives.ReadUInt32LittleEndian(full.AsSpan(i));
            if (full.Length - i == 2) sum += BinaryPrimitives.ReadUInt16LittleEndian(full.AsSpan(i));
            writes.Add((off + 216, Le32((uint)((sum & 0xFFFFFFFF) + (sum >> 32)))));
        }
    }

    private static void FixExfat(IBlockReader r, List<(long, byte[])> writes)
    {
        if (r.TryRead(0, 512) is not { } bs || !bs.AsSpan(3, 8).SequenceEqual("EXFAT   "u8)) return;
        int shift = bs[108];
        if (shift is < 9 or > 12) return;
        int ss = 1 << shift;
        if (r.TryRead(0, ss * 11) is not { } region) return;
        uint sum = 0;
        for (int i = 0; i < region.Length; i++)
        {
            if (i is 106 or 107 or 112) continue;
            sum = ((sum << 31) | (sum >> 1)) + region[i];
        }
        var sector = new byte[ss];
        for (int i = 0; i < ss; i += 4) BinaryPrimitives.WriteUInt32LittleEndian(sector.AsSpan(i), sum);
        writes.Add((11L * ss, sector));
    }

    private static void FixErofs(IBlockReader r, List<(long, byte[])> writes)
    {
        if (r.TryRead(1024, 128) is not { } sb || BinaryPrimitives.ReadUInt32LittleEndian(sb) != 0xE0F5E1E2) return;
        int bits = sb[12];
        if (bits is < 11 or > 16) return;
        if (r.TryRead(1024, (1 << bits) - 1024) is not { } block) return;
        block.AsSpan(4, 4).Clear();
        writes.Add((1028, Le32(Crc32c(~0u, block))));
    }

    private static byte[] Le32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    private static readonly uint[] Crc32cTable = BuildCrc32c();

    /// <summary>Reflected Castagnoli CRC with the caller's seed and no final inversion, as util-linux's crc32c().</summary>
    private static uint Crc32c(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) crc = Crc32cTable[(crc ^ b) & 0xff] ^ (crc >> 8);
        return crc;
    }

    private static uint[] BuildCrc32c()
    {
        var t = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            t[i] = c;
        }
        return t;
    }
}
