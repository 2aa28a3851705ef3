using System.Buffers.Binary;
using RestoreTools.Engine.Partitions;

namespace RestoreTools.Tests.Unit.Fuzz;

/// <summary>Minimal hand-made disks for the regression tests of what the fuzzer found: each one bug class, nothing else.</summary>
public static class CraftedDisks
{
    /// <summary>
    /// A protective MBR and a primary GPT (512-byte sectors, valid CRCs) whose entries are given as
    /// (first LBA, last LBA); the disk is declared <paramref name="diskBytes"/> long.
    /// </summary>
    public static FuzzDisk Gpt(long diskBytes, uint entryCount, params (long First, long Last)[] entries)
    {
        const int Ss = 512;
        var mbr = new byte[Ss];
        mbr[0x1be + 4] = 0xee;
        BinaryPrimitives.WriteUInt32LittleEndian(mbr.AsSpan(0x1be + 8), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(mbr.AsSpan(0x1be + 12), uint.MaxValue);
        mbr[510] = 0x55; mbr[511] = 0xaa;

        var array = new byte[entryCount * 128];
        var linux = Guid.Parse(PartitionTypes.LinuxFilesystem).ToByteArray();
        for (int i = 0; i < entries.Length; i++)
        {
            var e = array.AsSpan(i * 128, 128);
            linux.CopyTo(e);
            Guid.NewGuid().ToByteArray().CopyTo(e[16..]);
            BinaryPrimitives.WriteInt64LittleEndian(e[32..], entries[i].First);
            BinaryPrimitives.WriteInt64LittleEndian(e[40..], entries[i].Last);
        }

        long lastLba = diskBytes / Ss - 1;
        var h = new byte[Ss];
        "EFI PART"u8.CopyTo(h);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(8), 0x00010000);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(12), 92);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(24), 1);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(32), lastLba);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(40), 34);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(48), lastLba - 33);
        Guid.NewGuid().ToByteArray().CopyTo(h, 56);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(72), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(80), entryCount);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(84), 128);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(88), Crc32.Compute(array));
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(16), Crc32.Compute(h.AsSpan(0, 92)));

        var d = new FuzzDisk { DeclaredLength = diskBytes };
        d.Segments.Add((0, mbr));
        d.Segments.Add((Ss, h));
        d.Segments.Add((2 * Ss, array));
        return d;
    }

    /// <summary>An NTFS boot sector that passes every BPB check but puts $MFT at a cluster whose byte offset overflows.</summary>
    public static FuzzDisk NtfsMftBeyondLong()
    {
        var bs = new byte[512];
        bs[0] = 0xeb; bs[1] = 0x52; bs[2] = 0x90;
        "NTFS    "u8.CopyTo(bs.AsSpan(3));
        BinaryPrimitives.WriteUInt16LittleEndian(bs.AsSpan(11), 512);
        bs[13] = 8;                                                           // sectors per cluster
        bs[21] = 0xf8;
        BinaryPrimitives.WriteUInt64LittleEndian(bs.AsSpan(40), ulong.MaxValue);   // number_of_sectors
        BinaryPrimitives.WriteUInt64LittleEndian(bs.AsSpan(48), 1UL << 60);        // mft_cluster: * 4096 > long.MaxValue
        BinaryPrimitives.WriteUInt64LittleEndian(bs.AsSpan(56), 2);
        bs[64] = 0xf6;                                                        // 1 KiB MFT records
        bs[510] = 0x55; bs[511] = 0xaa;
        var d = new FuzzDisk { DeclaredLength = 1 << 20 };
        d.Segments.Add((0, bs));
        return d;
    }

    /// <summary>
    /// A 64 MiB ZFS member (four uberblocks in label 0) whose nvlist ends with a "name" pair that claims
    /// to fit but whose value lies past the 4 KiB that are read.
    /// </summary>
    public static FuzzDisk ZfsNameAtEndOfNvlist()
    {
        var ring = new byte[4 * 1024];
        for (int i = 0; i < 4; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(ring.AsSpan(i * 1024), 0x00bab10c);
            BinaryPrimitives.WriteUInt64LittleEndian(ring.AsSpan(i * 1024 + 8), 5000);
        }
        var nv = new byte[4096];
        int pos = 12;
        BinaryPrimitives.WriteUInt32BigEndian(nv.AsSpan(pos), 4096 - 12 - 16);   // a filler pair up to the last 16 bytes
        BinaryPrimitives.WriteUInt32BigEndian(nv.AsSpan(pos + 8), 1);
        nv[pos + 12] = (byte)'x';
        pos = 4096 - 16;
        BinaryPrimitives.WriteUInt32BigEndian(nv.AsSpan(pos), 16);                // "name": size 16, name length 4, no room for a value
        BinaryPrimitives.WriteUInt32BigEndian(nv.AsSpan(pos + 8), 4);
        "name"u8.CopyTo(nv.AsSpan(pos + 12));
        var d = new FuzzDisk { DeclaredLength = 64L * 1024 * 1024 };
        d.Segments.Add((16 * 1024, nv));
        d.Segments.Add((128 * 1024, ring));
        return d;
    }

    /// <summary>An LVM2 label (valid CRC) in sector 1 whose pv_header offset is near 2^32, so offset + 32 wraps.</summary>
    public static FuzzDisk LvmHugePvOffset()
    {
        var label = new byte[512];
        "LABELONE"u8.CopyTo(label);
        BinaryPrimitives.WriteUInt64LittleEndian(label.AsSpan(8), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(label.AsSpan(20), 0xFFFFFFF0);
        "LVM2 001"u8.CopyTo(label.AsSpan(24));
        var d = new FuzzDisk { DeclaredLength = 1 << 20 };
        d.Segments.Add((512, label));
        ChecksumFixer.Fix(d);
        return d;
    }

    /// <summary>
    /// The most work one FAT32 boot sector can ask of the label search: 4 KiB sectors, 128-sector
    /// (512 KiB) clusters and a root-directory chain that loops on itself, at byte <paramref name="at"/>.
    /// </summary>
    public static void AddLoopingFat32(FuzzDisk d, long at)
    {
        var bs = new byte[4096];
        bs[0] = 0xeb; bs[1] = 0x58; bs[2] = 0x90;
        "mkfs.fat"u8.CopyTo(bs.AsSpan(3));
        BinaryPrimitives.WriteUInt16LittleEndian(bs.AsSpan(11), 4096);    // bytes per sector
        bs[13] = 128;                                                      // sectors per cluster
        BinaryPrimitives.WriteUInt16LittleEndian(bs.AsSpan(14), 32);      // reserved sectors
        bs[16] = 2;                                                        // FATs
        bs[21] = 0xf8;
        BinaryPrimitives.WriteUInt32LittleEndian(bs.AsSpan(32), 1 << 20); // sectors
        BinaryPrimitives.WriteUInt32LittleEndian(bs.AsSpan(36), 64);      // sectors per FAT
        BinaryPrimitives.WriteUInt32LittleEndian(bs.AsSpan(44), 2);       // root cluster
        "FAT32   "u8.CopyTo(bs.AsSpan(0x52));
        bs[510] = 0x55; bs[511] = 0xaa;
        var fat = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(fat.AsSpan(8), 2);       // cluster 2 -> cluster 2
        d.Segments.Add((at, bs));
        d.Segments.Add((at + 32 * 4096, fat));
    }

    /// <summary>
    /// A valid exFAT boot region (512-byte sectors and clusters) whose root directory is two clusters of
    /// file entries chained in a loop: no end-of-directory entry and no label, ever.
    /// </summary>
    public static FuzzDisk ExfatLoopingRoot()
    {
        var bs = new byte[512];
        bs[0] = 0xeb; bs[1] = 0x76; bs[2] = 0x90;
        "EXFAT   "u8.CopyTo(bs.AsSpan(3));
        BinaryPrimitives.WriteUInt32LittleEndian(bs.AsSpan(80), 24);      // FatOffset
        BinaryPrimitives.WriteUInt32LittleEndian(bs.AsSpan(84), 8);       // FatLength
        BinaryPrimitives.WriteUInt32LittleEndian(bs.AsSpan(88), 32);      // ClusterHeapOffset
        BinaryPrimitives.WriteUInt32LittleEndian(bs.AsSpan(92), 100);     // ClusterCount
        BinaryPrimitives.WriteUInt32LittleEndian(bs.AsSpan(96), 2);       // FirstClusterOfRootDirectory
        bs[104] = 0; bs[105] = 1;                                          // revision 1.0
        bs[108] = 9; bs[109] = 0; bs[110] = 1;                             // 512-byte sectors, 1 sector a cluster, 1 FAT
        bs[510] = 0x55; bs[511] = 0xaa;
        var fat = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(fat.AsSpan(8), 3);       // 2 -> 3
        BinaryPrimitives.WriteUInt32LittleEndian(fat.AsSpan(12), 2);      // 3 -> 2
        var root = new byte[1024];
        for (int i = 0; i < root.Length; i += 32) root[i] = 0x85;          // file entries
        var d = new FuzzDisk { DeclaredLength = 1 << 20 };
        d.Segments.Add((0, bs));
        d.Segments.Add((24 * 512, fat));
        d.Segments.Add((32 * 512, root));
        ChecksumFixer.Fix(d);
        return d;
    }
}
