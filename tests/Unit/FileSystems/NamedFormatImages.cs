using System.Buffers.Binary;
using System.Text;
using static RestoreTools.Tests.Unit.FileSystems.ProbeTestSupport;

namespace RestoreTools.Tests.Unit.FileSystems;

/// <summary>
/// Hand-built headers for formats no tool on this machine writes: the "named, not guessed" formats
/// (BitLocker, ReFS, VMFS, Core Storage, Windows LDM and Storage Spaces) and HFS+ (Debian 12 has no
/// mkfs.hfsplus). Each layout is written from the format's public description, named at each writer:
/// libbde's BitLocker format notes, libfvde's Core Storage notes, VMware's VMFS headers as libblkid reads
/// them, the Linux kernel's ldm.h for the LDM private header, public Storage Spaces reverse-engineering notes,
/// and Apple's TN1150 for HFS+. Where blkid knows the format, the tests hold our probe to its answer.
/// </summary>
internal static class NamedFormatImages
{
    public const long Size = 8 * 1024 * 1024;

    private static void Le16(byte[] b, int o, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(o), v);
    private static void Le32(byte[] b, int o, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(o), v);
    private static void Le64(byte[] b, int o, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(o), v);
    private static void Be16(byte[] b, int o, ushort v) => BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(o), v);
    private static void Be32(byte[] b, int o, uint v) => BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(o), v);
    private static void Ascii(byte[] b, int o, string s) => Encoding.ASCII.GetBytes(s).CopyTo(b, o);

    private const long FveOffset = 1024 * 1024;

    /// <summary>
    /// BitLocker (Windows 7+) boot sector: EB 58 90 "-FVE-FS-", volume serial at 67, FVE metadata offset at
    /// 176; the FVE metadata block starts "-FVE-FS-", size (u16 at 8), version (u16 at 10).
    /// </summary>
    public static void WriteBitLocker(string path, uint serial)
    {
        var bs = new byte[512];
        bs[0] = 0xEB; bs[1] = 0x58; bs[2] = 0x90;
        Ascii(bs, 3, "-FVE-FS-");
        Le16(bs, 11, 512);
        Le32(bs, 67, serial);
        Le64(bs, 176, FveOffset);
        bs[510] = 0x55; bs[511] = 0xAA;
        WriteAt(path, 0, bs);
        WriteFve(path, FveOffset);
    }

    private static void WriteFve(string path, long at)
    {
        var fve = new byte[64];
        Ascii(fve, 0, "-FVE-FS-");
        Le16(fve, 8, 64);
        Le16(fve, 10, 2);                                                  // version 2 (Windows 7 and later)
        WriteAt(path, at, fve);
    }

    /// <summary>BitLocker To Go: a real FAT32 whose OEM id is "MSWIN4.1" and whose boot code area points at FVE metadata (offset at 440).</summary>
    public static void MakeBitLockerToGo(string path)
    {
        Run("mkfs.vfat", "-F", "32", "-n", "TOGO", path);
        WriteAt(path, 3, Encoding.ASCII.GetBytes("MSWIN4.1"));
        var off = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(off, (ulong)(40 * 1024 * 1024));
        WriteAt(path, 440, off);
        WriteFve(path, 40 * 1024 * 1024);
    }

    /// <summary>ReFS boot sector: three zero bytes, "ReFS" and a zero pad (what libblkid matches), "FSRS" at 16.</summary>
    public static void WriteRefs(string path)
    {
        var bs = new byte[512];
        Ascii(bs, 3, "ReFS");
        Ascii(bs, 16, "FSRS");
        WriteAt(path, 0, bs);
    }

    public static readonly byte[] VmwareUuid = Convert.FromHexString("5f3a9c0144332211aabbccddeeff0011");

    /// <summary>VMFS filesystem info at 2 MiB: magic 0x2fabf15e, volume version, version byte, UUID (16), mode, label (128).</summary>
    public static void WriteVmfs(string path, string label)
    {
        var h = new byte[512];
        Le32(h, 0, 0x2fabf15e);
        Le32(h, 4, 14);
        h[8] = 6;                                                          // VMFS 6
        VmwareUuid.CopyTo(h, 9);
        Ascii(h, 29, label);
        WriteAt(path, 2 * 1024 * 1024, h);
    }

    public const string VmfsLvmUuid = "5f3a9c01-11223344-aabb-ccddeeff0011";

    /// <summary>VMFS volume (LVM) info at 1 MiB: magic 0xc001d00d, version, UUID at 130; the LVM UUID as text at 1 MiB + 532.</summary>
    public static void WriteVmfsVolume(string path)
    {
        var h = new byte[1024];
        Le32(h, 0, 0xc001d00d);
        Le32(h, 4, 6);
        VmwareUuid.CopyTo(h, 130);
        Ascii(h, 532, VmfsLvmUuid);
        WriteAt(path, 1024 * 1024, h);
    }

    public static readonly byte[] CoreStorageUuid = Convert.FromHexString("8a1e2f3c4d5b6a7980a1b2c3d4e5f607");

    /// <summary>
    /// Core Storage physical volume header (512 bytes): CRC32C value and seed, version 1, block type, "CS" at 88,
    /// checksum type 1, key data size 16 and cipher 2 (AES-XTS) for FileVault 2, physical volume UUID at 304.
    /// </summary>
    public static void WriteCoreStorage(string path, bool fileVault)
    {
        var h = new byte[512];
        Le16(h, 8, 1);
        Le16(h, 10, (ushort)(fileVault ? 0x10 : 0x11));
        Le64(h, 64, Size);
        Ascii(h, 88, "CS");
        Le32(h, 90, 1);
        Le32(h, 96, 4096);
        Le32(h, 168, 16);
        Le32(h, 172, 2);
        CoreStorageUuid.CopyTo(h, 304);
        Le32(h, 4, 0xFFFFFFFF);                                            // seed
        Le32(h, 0, Crc32c(0xFFFFFFFF, h.AsSpan(8)));
        WriteAt(path, 0, h);
    }

    private static uint Crc32c(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return crc;
    }

    public const string LdmDiskGuid = "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9";

    /// <summary>
    /// LDM private header ("PRIVHEAD", big-endian, version 2.12, disk GUID as text at 0x30) in sector 6, where
    /// an MBR dynamic disk keeps it, or in the last sector, where the GPT LDM metadata partition keeps it.
    /// </summary>
    public static void WriteLdmPrivhead(string path, bool lastSector)
    {
        var ph = new byte[512];
        Ascii(ph, 0, "PRIVHEAD");
        Be16(ph, 12, 2);
        Be16(ph, 14, 12);
        Ascii(ph, 0x30, LdmDiskGuid);
        long size = new FileInfo(path).Length;
        WriteAt(path, lastSector ? size - 512 : 6 * 512, ph);
    }

    public static readonly byte[] PoolGuid = Convert.FromHexString("11223344556677889900aabbccddeeff");

    /// <summary>Storage Spaces disk header: "SPACEDB ", layout version 3 (big-endian), pool GUID at 0x20, disk GUID at 0x30.</summary>
    public static void WriteStorageSpaces(string path)
    {
        var h = new byte[512];
        Ascii(h, 0, "SPACEDB ");
        Be16(h, 8, 3);
        Be16(h, 10, 0x200);
        PoolGuid.CopyTo(h, 0x20);
        Convert.FromHexString("ffeeddccbbaa00998877665544332211").CopyTo(h, 0x30);
        WriteAt(path, 0, h);
    }

    /// <summary>
    /// An HFS wrapper (TN1150 "HFS Wrapper"): an HFS master directory block whose embedded-volume signature is
    /// "H+", allocation blocks of 4 KiB from sector 16 (al_bl_st), the HFS+ volume from allocation block 1.
    /// </summary>
    public static void WriteHfsWrapper(string path, string volumeName)
    {
        var mdb = new byte[512];
        Ascii(mdb, 0, "BD");
        Be32(mdb, 20, 4096);                                               // drAlBlkSiz
        Be16(mdb, 28, 16);                                                 // drAlBlSt, in 512-byte sectors
        mdb[36] = 7;
        Ascii(mdb, 37, "Wrapper");
        Ascii(mdb, 124, "H+");                                             // drEmbedSigWord
        Be16(mdb, 126, 1);                                                 // drEmbedExtent start block
        Be16(mdb, 128, (ushort)(Size / 4096 - 8));
        string inner = path + ".inner";
        ProbeTestSupport.CreateSparse(inner, Size);
        WriteHfsPlus(inner, volumeName);
        byte[] volume = File.ReadAllBytes(inner);
        File.Delete(inner);
        long embedded = 16 * 512 + 4096;
        WriteAt(path, embedded, volume.AsSpan(0, (int)(Size - embedded)));
        WriteAt(path, 1024, mdb);
    }

    public static readonly byte[] FinderId = Convert.FromHexString("0123456789abcdef");

    /// <summary>
    /// HFS+ (TN1150): volume header at 1 KiB ("H+", version 4, 4 KiB blocks, Finder id at 104, catalog extents
    /// at 288), catalog B-tree of 4 KiB nodes from block 2: the header node, then leaf node 1 whose first record
    /// is the root folder's, keyed by parent id 1 and the volume name (UTF-16BE).
    /// </summary>
    public static void WriteHfsPlus(string path, string volumeName)
    {
        const int block = 4096, catalogStart = 2;
        var vh = new byte[512];
        Ascii(vh, 0, "H+");
        Be16(vh, 2, 4);
        Be32(vh, 40, block);
        Be32(vh, 44, (uint)(Size / block));
        FinderId.CopyTo(vh, 104);
        Be32(vh, 288, catalogStart);                                       // catalog extent 0: start block, block count
        Be32(vh, 292, 2);
        WriteAt(path, 1024, vh);

        var header = new byte[block];
        header[8] = 1;                                                     // kind: header node
        Be16(header, 10, 3);
        Be16(header, 14, 1);                                               // depth
        Be32(header, 16, 1);                                               // root node
        Be32(header, 20, 1);                                               // leaf records
        Be32(header, 24, 1);                                               // first leaf node
        Be32(header, 28, 1);                                               // last leaf node
        Be16(header, 32, block);                                           // node size
        WriteAt(path, catalogStart * block, header);

        var leaf = new byte[block];
        leaf[8] = 0xFF;                                                    // kind: leaf
        leaf[9] = 1;
        Be16(leaf, 10, 1);
        byte[] name = Encoding.BigEndianUnicode.GetBytes(volumeName);
        Be16(leaf, 14, (ushort)(6 + name.Length));                         // key length
        Be32(leaf, 16, 1);                                                 // parent id: the root's parent
        Be16(leaf, 20, (ushort)(name.Length / 2));
        name.CopyTo(leaf, 22);
        WriteAt(path, (catalogStart + 1) * block, leaf);
    }
}
