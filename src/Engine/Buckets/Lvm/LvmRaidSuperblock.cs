using System.Buffers.Binary;

namespace RestoreTools.Engine.Buckets.Lvm;

/// <summary>
/// The superblock dm-raid keeps at the start of each leg's metadata sub-LV (_rmeta_N), as the
/// kernel's dm-raid.c writes it: what tells a leg that is in sync from one that missed writes.
/// When a leg is lost, dm-raid goes on with the others, raises their event counter and marks the
/// lost one in failed_devices; a leg still being rebuilt has a recovery offset short of the end.
/// </summary>
public sealed record LvmRaidSuperblock(int Position, ulong Events, ulong FailedDevices, ulong RecoveryOffset)
{
    private const uint Magic = 0x64526D44; // "DmRd"

    /// <summary>Fully recovered: md's MaxSector, all ones.</summary>
    public bool Recovered => RecoveryOffset == ulong.MaxValue;

    /// <summary>The superblock in the first bytes of an rmeta sub-LV, or null when there is none.</summary>
    public static LvmRaidSuperblock? Parse(ReadOnlySpan<byte> b)
    {
        if (b.Length < 48 || BinaryPrimitives.ReadUInt32LittleEndian(b) != Magic) return null;
        // magic, compat_features, num_devices, array_position, then the 64-bit events,
        // failed_devices and disk_recovery_offset.
        return new LvmRaidSuperblock((int)BinaryPrimitives.ReadUInt32LittleEndian(b[12..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[16..]), BinaryPrimitives.ReadUInt64LittleEndian(b[24..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[32..]));
    }

    /// <summary>
    /// The legs (by position) that hold the newest data: of those whose superblock could be read,
    /// the ones at the highest event count that the freshest superblock does not mark failed and
    /// that are fully recovered. Null when no superblock could be read (nothing to judge by).
    /// </summary>
    public static IReadOnlySet<int>? InSync(IReadOnlyList<LvmRaidSuperblock?> legs)
    {
        var read = legs.Select((sb, i) => (sb, i)).Where(x => x.sb is not null).ToList();
        if (read.Count == 0) return null;
        ulong newest = read.Max(x => x.sb!.Events);
        ulong failed = read.First(x => x.sb!.Events == newest).sb!.FailedDevices;
        return read.Where(x => x.sb!.Events == newest && x.sb.Recovered && (x.i >= 64 || (failed & (1UL << x.i)) == 0))
            .Select(x => x.i).ToHashSet();
    }
}
