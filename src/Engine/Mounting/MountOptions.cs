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
    /// ufstype values to try, best first, for the UFS superblock the probe found. Linux's ufs reads UFS2 only at
    /// 64 KiB (ufs2) and UFS1 only at 8 KiB (44bsd; 44bsd also accepts a UFS2 magic there but then reads UFS1
    /// inodes). Empty when no ufstype fits: a UFS2 superblock at 8 KiB (NetBSD makefs writes it there) or a
    /// superblock at 0 or 256 KiB; the error should say so instead of trying.
    /// </summary>
    public static IReadOnlyList<string> UfsTypes(string? version, long? superblockOffset) => (version, superblockOffset) switch
    {
        ("2", 65536) => ["ufstype=ufs2"],
        ("1", 8192) => ["ufstype=44bsd"],
        _ => [],
    };

    /// <summary>Kernel drivers to try for a probed type: ext2/ext3 are served by ext4 when built without them.</summary>
    public static IEnumerable<string> DriversFor(string fsType) => fsType switch
    {
        "ext2" or "ext3" => [fsType, "ext4"],
        // ntfs-3g first where it is there: it alone lists alternate data streams (docs/restore-vm.md, NTFS).
        "ntfs" => [Ntfs3gMount.Type, "ntfs3", "ntfs"],
        _ => [fsType],
    };
}
