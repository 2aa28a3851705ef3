using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>LUKS1/LUKS2 header; for LUKS2 also the secondary header when the primary is wiped.</summary>
public sealed class LuksProbe : SuperblockProbe
{
    private static readonly byte[] Magic = [0x4C, 0x55, 0x4B, 0x53, 0xBA, 0xBE];            // "LUKS\xba\xbe"
    private static readonly byte[] SecondaryMagic = [0x53, 0x4B, 0x55, 0x4C, 0xBA, 0xBE];   // "SKUL\xba\xbe"
    // Where LUKS2 may put its second header copy (the primary header area sizes cryptsetup allows).
    private static readonly long[] SecondaryOffsets =
        [0x04000, 0x008000, 0x010000, 0x020000, 0x40000, 0x080000, 0x100000, 0x200000, 0x400000];
    private const int HeaderSize = 512;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? hdr = device.TryRead(0, HeaderSize);
        if (hdr is null) return null;
        if (Valid(hdr, Magic, 0)) return Describe(hdr);
        foreach (long off in SecondaryOffsets)
        {
            byte[]? h2 = device.TryRead(off, HeaderSize);
            if (h2 is null) break;
            if (Valid(h2, SecondaryMagic, off)) return Describe(h2);
        }
        return null;
    }

    private static bool Valid(byte[] hdr, byte[] magic, long offset)
    {
        if (!hdr.AsSpan(0, 6).SequenceEqual(magic)) return false;
        ushort version = Be16(hdr, 6);
        if (version == 1) return offset == 0;                            // LUKS1 has no second copy
        // LUKS2: hdr_offset (256) must say where this copy is.
        return version == 2 && Be64(hdr, 256) == (ulong)offset;
    }

    private static FileSystemInfo Describe(byte[] hdr)
    {
        ushort version = Be16(hdr, 6);
        string? uuid = Ascii(hdr.AsSpan(168, 40));                         // uuid, stored as text
        string? label = version == 2 ? Label(hdr.AsSpan(24, 48)) : null;  // LUKS2 label
        return new FileSystemInfo("crypto_LUKS", label, uuid, version.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            IsMountable = false,
            Reason = "LUKS: encrypted, needs its passphrase; not supported",
        };
    }
}
