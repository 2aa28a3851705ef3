using System.Buffers.Binary;
using System.Text;

namespace RestoreTools.Tests.Unit.FileSystems;

/// <summary>
/// Hand-built on-disk headers for formats whose creating tools cannot run here:
/// mdadm and pvcreate refuse plain files (they want block devices), and Debian 12 ships no ZFS tools.
/// Each layout is written from the format's own definition (md_p.h, LVM's label.h, ZFS vdev_impl.h/nvpair XDR).
/// </summary>
internal static class SyntheticImages
{
    public const string LvmPvId = "Q3bx0SLlFk2yS9bUvhGz4kNcVmpW7aTe";

    /// <summary>LVM2 label in sector 1 (where pvcreate puts it), pv_header at offset 32 of the label.</summary>
    public static void WriteLvmLabel(string path)
    {
        var label = new byte[512];
        Encoding.ASCII.GetBytes("LABELONE").CopyTo(label, 0);
        BinaryPrimitives.WriteUInt64LittleEndian(label.AsSpan(8), 1);       // sector_xl
        BinaryPrimitives.WriteUInt32LittleEndian(label.AsSpan(20), 32);     // offset_xl
        Encoding.ASCII.GetBytes("LVM2 001").CopyTo(label, 24);
        Encoding.ASCII.GetBytes(LvmPvId).CopyTo(label, 32);                 // pv_uuid
        BinaryPrimitives.WriteUInt64LittleEndian(label.AsSpan(64), 8 * 1024 * 1024); // device_size_xl
        BinaryPrimitives.WriteUInt32LittleEndian(label.AsSpan(16), LvmCrc(label.AsSpan(20)));
        ProbeTestSupport.WriteAt(path, 512, label);
    }

    private static uint LvmCrc(ReadOnlySpan<byte> data)
    {
        uint crc = 0xf597a6cf;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return crc;
    }

    /// <summary>MD v0.90 superblock, little-endian, 64 KiB-aligned 64 KiB before the end.</summary>
    public static void WriteMd090(string path, long deviceSize)
    {
        long off = (deviceSize & ~0xFFFFL) - 0x10000;
        var sb = new byte[4096];
        void U32(int o, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(o), v);
        U32(0, 0xa92b4efc);            // md_magic
        U32(4, 0); U32(8, 90); U32(12, 0);   // 0.90.0
        U32(20, 0x11223344);           // set_uuid0
        U32(28, 1);                    // level
        U32(32, (uint)(off / 1024));   // size in KiB: the data area before the superblock
        U32(36, 2); U32(40, 2);        // nr_disks, raid_disks
        U32(52, 0x55667788); U32(56, 0x99aabbcc); U32(60, 0xddeeff00);  // set_uuid1..3
        ProbeTestSupport.WriteAt(path, off, sb);
    }

    public static readonly byte[] MdSetUuid = Convert.FromHexString("0123456789abcdef0011223344556677");

    /// <summary>MD v1.x superblock; minor 0 at the end, 1 at 0, 2 at 4 KiB.</summary>
    public static void WriteMd1(string path, long deviceSize, int minor, string name)
    {
        long off = minor switch { 0 => (deviceSize & ~0xFFFL) - 0x2000, 1 => 0, _ => 0x1000 };
        const int maxDev = 4;
        var sb = new byte[256 + maxDev * 2];
        BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(0), 0xa92b4efc);   // magic
        BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(4), 1);            // major_version
        MdSetUuid.CopyTo(sb, 16);                                              // set_uuid
        Encoding.ASCII.GetBytes(name).CopyTo(sb, 32);                          // set_name
        BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(72), 1);           // level
        BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(92), 2);           // raid_disks
        BinaryPrimitives.WriteUInt64LittleEndian(sb.AsSpan(128), minor == 0 ? 0UL : 2048);  // data_offset
        BinaryPrimitives.WriteUInt64LittleEndian(sb.AsSpan(136), 4096);       // data_size
        BinaryPrimitives.WriteUInt64LittleEndian(sb.AsSpan(144), (ulong)off >> 9);  // super_offset
        Convert.FromHexString("fedcba98765432100123456789abcdef").CopyTo(sb, 168);  // device_uuid
        BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(220), maxDev);     // max_dev
        for (int i = 0; i < maxDev; i++) BinaryPrimitives.WriteUInt16LittleEndian(sb.AsSpan(256 + i * 2), (ushort)(i < 2 ? i : 0xFFFF));
        ulong sum = 0;
        for (int i = 0; i + 4 <= sb.Length; i += 4) sum += BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(i));
        BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(216), (uint)((sum & 0xFFFFFFFF) + (sum >> 32)));  // sb_csum
        ProbeTestSupport.WriteAt(path, off, sb);
    }

    public const ulong ZfsPoolGuid = 1234567890123456789;

    /// <summary>
    /// ZFS label 0 and 1: an XDR nvlist at 16 KiB (version, name, state, txg, pool_guid, guid) and uberblocks
    /// with magic 0x00bab10c in the ring at 128 KiB. blkid needs four uberblocks in total.
    /// </summary>
    public static void WriteZfsLabels(string path, string pool)
    {
        foreach (long label in new long[] { 0, 256 * 1024 })
        {
            var nv = new List<byte>();
            void Be32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32BigEndian(b, v); nv.AddRange(b); }
            void Be64(ulong v) { var b = new byte[8]; BinaryPrimitives.WriteUInt64BigEndian(b, v); nv.AddRange(b); }
            void Padded(byte[] s) { nv.AddRange(s); nv.AddRange(new byte[(4 - s.Length % 4) % 4]); }
            int Pad(int n) => (n + 3) & ~3;
            void PairU64(string key, ulong v)
            {
                var k = Encoding.ASCII.GetBytes(key);
                Be32((uint)(12 + Pad(k.Length) + 16)); Be32(0); Be32((uint)k.Length); Padded(k);
                Be32(8); Be32(1); Be64(v);                                    // DATA_TYPE_UINT64, one element
            }
            void PairString(string key, string v)
            {
                var k = Encoding.ASCII.GetBytes(key);
                var s = Encoding.ASCII.GetBytes(v);
                Be32((uint)(12 + Pad(k.Length) + 12 + Pad(s.Length))); Be32(0); Be32((uint)k.Length); Padded(k);
                Be32(9); Be32(1); Be32((uint)s.Length); Padded(s);           // DATA_TYPE_STRING
            }
            nv.AddRange([1, 1, 0, 0]);                                        // XDR encoding, little-endian host
            Be32(0); Be32(1);                                                 // nvl_version, nvl_nvflag (NV_UNIQUE_NAME)
            PairU64("version", 5000);
            PairString("name", pool);
            PairU64("state", 0);
            PairU64("txg", 4);
            PairU64("pool_guid", ZfsPoolGuid);
            PairU64("guid", 987654321);
            Be32(0); Be32(0);                                                 // end of list
            ProbeTestSupport.WriteAt(path, label + 16 * 1024, nv.ToArray());

            for (int i = 0; i < 4; i++)
            {
                var ub = new byte[1024];
                BinaryPrimitives.WriteUInt64LittleEndian(ub.AsSpan(0), 0x00bab10c);   // ub_magic
                BinaryPrimitives.WriteUInt64LittleEndian(ub.AsSpan(8), 5000);         // ub_version
                BinaryPrimitives.WriteUInt64LittleEndian(ub.AsSpan(16), (ulong)i + 1); // ub_txg
                ProbeTestSupport.WriteAt(path, label + 128 * 1024 + i * 1024L, ub);
            }
        }
    }

    /// <summary>
    /// A bare UFS2 superblock where FreeBSD newfs puts it (64 KiB): fs_id at 144, fs_volname at 680,
    /// fs_magic 0x19540119 at 1372 (layout of struct fs in ufs/ffs/fs.h).
    /// </summary>
    public static void WriteUfs2Superblock(string path, string volname)
    {
        var sb = new byte[1376];
        BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(48), 32768);        // fs_bsize
        BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(52), 4096);         // fs_fsize
        BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(144), 0x5f3a9c01);  // fs_id[0]
        BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(148), 0x0badf00d);  // fs_id[1]
        Encoding.ASCII.GetBytes(volname).CopyTo(sb, 680);
        BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(1372), 0x19540119); // fs_magic
        ProbeTestSupport.WriteAt(path, 65536, sb);
    }
}
