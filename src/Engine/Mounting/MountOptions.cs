namespace RestoreTools.Engine.Mounting;

/// <summary>Per-filesystem mount data that keeps a read-only mount from touching the image.</summary>
internal static class MountOptions
{
    /// <param name="replay">The device is a throw-away overlay (a restore VM's): let the journal or log be
    /// replayed into it, so files written just before the backup appear. Otherwise never replay.</param>
    public static string? For(string fsType, bool replay = false) => fsType switch
    {
        // noload: never replay a dirty journal (a read-only mount would otherwise still write it).
        "ext2" or "ext3" or "ext4" => replay ? null : "noload",
        // norecovery: skip log replay; nouuid: two backups of one VM share a filesystem UUID.
        "xfs" => replay ? "nouuid" : "norecovery,nouuid",
        // UFS needs its flavour named; FreeBSD images are UFS2.
        "ufs" => "ufstype=ufs2",
        "ntfs" => "utf8",
        "ntfs3" => "iocharset=utf8",
        "vfat" or "msdos" or "exfat" => "utf8",
        "iso9660" => "utf8",
        _ => null,
    };

    /// <summary>Kernel drivers to try for a probed type: ext2/ext3 are served by ext4 when built without them.</summary>
    public static IEnumerable<string> DriversFor(string fsType) => fsType switch
    {
        "ext2" or "ext3" => [fsType, "ext4"],
        "ntfs" => ["ntfs3", "ntfs"],
        _ => [fsType],
    };
}
