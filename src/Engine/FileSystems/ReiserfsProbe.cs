using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>
/// ReiserFS 3.x: the magic names the format. "ReIsErFs" is 3.5, "ReIsEr2Fs" 3.6, "ReIsEr3Fs" a 3.6 with a
/// relocated (non-standard or external) journal, which blkid calls version "JR". The places and the order
/// are libblkid's reiserfs.c.
/// </summary>
public sealed class ReiserfsProbe : SuperblockProbe
{
    private const long MinimumSize = 128 * 1024;

    // (superblock KiB offset, magic offset inside it, magic)
    private static readonly (int KiB, int At, string Magic)[] Places =
    [
        (8, 0x34, "ReIsErFs"),
        (64, 0x34, "ReIsEr2Fs"),
        (64, 0x34, "ReIsEr3Fs"),
        (64, 0x34, "ReIsErFs"),
        (8, 20, "ReIsErFs"),                                          // the oldest 3.5 layout
    ];

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        if (device.Length < MinimumSize) return null;
        foreach (var (kib, at, magic) in Places)
        {
            byte[]? sb = device.TryRead(kib * 1024L, 0x74);
            if (sb is null || !Matches(sb, at, magic)) continue;
            return Accept(sb, kib, magic);                                // blkid judges the first magic found only
        }
        return null;
    }

    private static FileSystemInfo? Accept(byte[] sb, int kib, string magic)
    {
        uint blocksize = Le16(sb, 0x2C);                                 // rs_blocksize
        if (blocksize >> 9 == 0) return null;
        // A superblock copy inside the journal is not the real one.
        if ((uint)kib / (blocksize >> 9) > Le32(sb, 12) / 2) return null;   // rs_journal_block

        char kind = magic[6];
        string version = kind switch { '3' => "JR", '2' => "3.6", _ => "3.5" };
        if (kind is not ('2' or '3')) return new FileSystemInfo("reiserfs", Version: version);
        // Label and UUID exist from 3.6 on.
        string? label = sb[0x64] != 0 ? Label(sb.AsSpan(0x64, 16)) : null;
        return new FileSystemInfo("reiserfs", label, Uuid(sb.AsSpan(0x54, 16)), version);
    }
}
