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
        // subvolid=5: the top level, where every subvolume is a folder (a plain mount shows only the default one);
        // rescue=nologreplay: a read-only mount otherwise replays the fsync log tree, writing to the device.
        "btrfs" => replay ? "subvolid=5" : "subvolid=5,rescue=nologreplay",
        // UFS needs its flavour named; FreeBSD images are UFS2. UfsTypes gives the order for a probed superblock.
        "ufs" => "ufstype=ufs2",
        // norecovery: a read-only nilfs2 mount otherwise writes to finish recovery after an unclean shutdown.
        "nilfs2" => replay ? null : "norecovery",
        // norecovery = ro + disable_roll_forward: no fsync-data roll-forward recovery written on mount.
        "f2fs" => replay ? null : "norecovery",
        // reiserfs has no option to skip replay; on a read-only device it refuses a dirty journal (EROFS) instead of writing.
        "reiserfs" => null,
        // The kernel never replays the JFS log (fsck.jfs does) and mounts a dirty JFS read-only as it is.
        "jfs" => null,
        // The kernel does not replay the HFS+ journal; hfs, minix: no journal at all.
        "hfsplus" or "hfs" or "minix" => null,
        "udf" => "utf8",
        "ntfs" => "utf8",
        "ntfs3" => "iocharset=utf8",
        "vfat" or "msdos" or "exfat" => "utf8",
        "iso9660" => "utf8",
        _ => null,
    };

    /// <summary>
    /// ufstype values to try, best first, for the UFS superblock the probe found: UFS2 at 64 KiB reads as
    /// ufs2, UFS1 at 8 KiB as 44bsd, each then the other. Linux reads UFS2 only at 64 KiB; a UFS2 superblock
    /// at 8 KiB (NetBSD makefs writes it there) fails with both (measured in the restore VM: EINVAL), and
    /// UfsLayoutNote says why. Never ufstype=old or none: on a 4.4BSD UFS1 they mount an empty root.
    /// </summary>
    public static IReadOnlyList<string> UfsTypes(string? version, long? superblockOffset) => (version, superblockOffset) switch
    {
        ("1", 8192) => ["ufstype=44bsd", "ufstype=ufs2"],
        _ => ["ufstype=ufs2", "ufstype=44bsd"],
    };

    /// <summary>Why Linux cannot read a UFS layout, or null when some ufstype fits it.</summary>
    public static string? UfsLayoutNote(string? version, long? superblockOffset) => (version, superblockOffset) switch
    {
        ("2", 8192) => "its UFS2 superblock is at 8 KiB (NetBSD makefs writes it there); Linux reads UFS2 only at 64 KiB (FreeBSD newfs), so no ufstype mounts it",
        ("2", 65536) or ("1", 8192) or (_, null) => null,
        (_, long at) => $"its UFS{version} superblock is at {at / 1024} KiB, where Linux does not look (UFS2 at 64 KiB, UFS1 at 8 KiB)",
    };

    /// <summary>Kernel drivers to try for a probed type: ext2/ext3 are served by ext4 when built without them.</summary>
    public static IEnumerable<string> DriversFor(string fsType) => fsType switch
    {
        "ext2" or "ext3" => [fsType, "ext4"],
        // ntfs-3g first where it is there: it alone lists alternate data streams (docs/restore-vm.md, NTFS).
        "ntfs" => [Ntfs3gMount.Type, "ntfs3", "ntfs"],
        // The user-space reader first: it looks names up in a hash, where vfat scans the folder each time.
        "vfat" => [FatFuseMount.Type, "vfat"],
        _ => [fsType],
    };
}
