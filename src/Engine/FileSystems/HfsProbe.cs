using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>
/// Classic Mac HFS: the master directory block ("BD") at 1 KiB, unless it only wraps an embedded HFS+
/// volume (then HfsPlusProbe answers). Label is a Pascal string; the UUID is libblkid's MD5 of the Finder id.
/// </summary>
public sealed class HfsProbe : SuperblockProbe
{
    internal const long MdbOffset = 1024;
    internal const int MdbSize = 162, LabelLenOffset = 36, FinderIdOffset = 116, EmbedSigOffset = 124;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? mdb = device.TryRead(MdbOffset, MdbSize);
        if (mdb is null || !Matches(mdb, 0, "BD")) return null;
        if (Matches(mdb, EmbedSigOffset, "H+") || Matches(mdb, EmbedSigOffset, "HX")) return null;

        int len = Math.Min((int)mdb[LabelLenOffset], 27);
        string? label = Label(mdb.AsSpan(LabelLenOffset + 1, len));
        return new FileSystemInfo("hfs", label, FinderUuid(mdb.AsSpan(FinderIdOffset, 8)));
    }

    /// <summary>
    /// libblkid's HFS UUID: MD5 over a fixed namespace and the 8-byte Finder id, stamped as a version 3
    /// UUID; none when the id is all zeros.
    /// </summary>
    internal static string? FinderUuid(ReadOnlySpan<byte> finderId)
    {
        if (!finderId.ContainsAnyExcept((byte)0)) return null;
        byte[] input = [0xb3, 0xe2, 0x0f, 0x39, 0xf2, 0x92, 0x11, 0xd6, 0x97, 0xa4, 0x00, 0x30, 0x65, 0x43, 0xec, 0xac, .. finderId];
        byte[] h = Md5.Hash(input);
        h[6] = (byte)(0x30 | (h[6] & 0x0f));
        h[8] = (byte)(0x80 | (h[8] & 0x3f));
        return Uuid(h);
    }
}
