namespace RestoreTools.Tests.Unit.Fuzz;

/// <summary>
/// Where the parsed formats keep their sizes, counts and offsets (byte offset from the start of the
/// disk or partition, width, big-endian). Random flips rarely hit two such fields at once; setting
/// them by name reaches the arithmetic behind the first checks.
/// </summary>
public static class HeaderFields
{
    public static readonly (long Offset, int Width, bool BigEndian)[] All = Build();

    private static (long, int, bool)[] Build()
    {
        var f = new List<(long, int, bool)>();
        void Le(long o, int w) => f.Add((o, w, false));
        void Be(long o, int w) => f.Add((o, w, true));

        // MBR entries (start, size) and the first EBR-style entries; GPT header and first entries, both sector sizes.
        for (int i = 0; i < 4; i++) { Le(446 + 16 * i + 8, 4); Le(446 + 16 * i + 12, 4); }
        foreach (long ss in new long[] { 512, 4096 })
        {
            foreach (int o in new[] { 12, 24, 32, 40, 48, 72, 80, 84 }) Le(ss + o, o is 12 or 80 or 84 ? 4 : 8);
            for (int e = 0; e < 4; e++) { Le(2 * ss + 128 * e + 32, 8); Le(2 * ss + 128 * e + 40, 8); }
        }
        // FAT BPB, NTFS BPB, exFAT boot sector.
        foreach (var (o, w) in new[] { (11, 2), (13, 1), (14, 2), (16, 1), (17, 2), (19, 2), (22, 2), (32, 4), (36, 4), (44, 4), (48, 2) }) Le(o, w);
        foreach (var (o, w) in new[] { (40, 8), (48, 8), (56, 8), (64, 1) }) Le(o, w);
        foreach (var (o, w) in new[] { (80, 4), (84, 4), (88, 4), (92, 4), (96, 4), (108, 1), (109, 1), (110, 1) }) Le(o, w);
        // ext4, EROFS, squashfs, LVM label, MD v1 (at 0 and 4 KiB), btrfs, UFS, ISO path sizes.
        foreach (int o in new[] { 0x18, 0x5C, 0x60, 0x64 }) Le(1024 + o, 4);
        Le(1024 + 12, 1); Le(1024 + 8, 4);
        Le(12, 4); Le(22, 2); Le(28, 2);
        for (int s = 0; s < 4; s++) { Le(s * 512 + 8, 8); Le(s * 512 + 20, 4); }
        foreach (long b in new long[] { 0, 4096 }) { Le(b + 144, 8); Le(b + 220, 4); }
        Le(0x10000 + 0x90, 4); Le(0x10000 + 0x94, 4);
        Be(4, 4); Be(102, 2); Be(104, 2); Be(84, 4); Be(88, 4);                     // XFS
        // ZFS label 0: nvlist pair sizes and name lengths in the first pairs, uberblock magic.
        for (int p = 0; p < 8; p++) { Be(16 * 1024 + 12 + 16 * p, 4); Be(16 * 1024 + 20 + 16 * p, 4); }
        Le(128 * 1024, 8);
        return [.. f];
    }
}
