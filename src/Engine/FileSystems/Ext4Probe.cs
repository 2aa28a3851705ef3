using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>ext2/ext3/ext4 (and jbd/ext4dev), told apart by feature flags the way libblkid's ext.c does.</summary>
public sealed class Ext4Probe : SuperblockProbe
{
    private const long SuperblockOffset = 1024;
    private const uint CompatHasJournal = 0x0004;
    private const uint IncompatJournalDev = 0x0008;
    private const uint IncompatRecover = 0x0004;   // needs_recovery: the journal was not replayed
    private const uint RoCompatMetadataCsum = 0x0400;
    // What the ext2/ext3 drivers understood: anything beyond these makes the volume ext4.
    private const uint Ext2RoCompatSupported = 0x0001 | 0x0002 | 0x0004;   // sparse_super, large_file, btree_dir
    private const uint Ext2IncompatSupported = 0x0002 | 0x0010;            // filetype, meta_bg
    private const uint Ext3IncompatSupported = 0x0002 | 0x0004 | 0x0010;   // filetype, recover, meta_bg
    private const uint FlagsTestFilesystem = 0x0004;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? sb = device.TryRead(SuperblockOffset, 1024);
        if (sb is null || Le16(sb, 0x38) != 0xEF53) return null;          // s_magic
        if (Le32(sb, 0x18) > 6) return null;                             // s_log_block_size: 1K << 6 = 64K at most

        uint compat = Le32(sb, 0x5C), incompat = Le32(sb, 0x60), roCompat = Le32(sb, 0x64);

        // blkid rejects a metadata_csum superblock whose crc32c (seed ~0, up to s_checksum at 0x3FC) is wrong.
        if ((roCompat & RoCompatMetadataCsum) != 0 && Crc32c(~0u, sb.AsSpan(0, 0x3FC)) != Le32(sb, 0x3FC))
            return null;

        string? label = Label(sb.AsSpan(0x78, 16));                      // s_volume_name
        string? uuid = Uuid(sb.AsSpan(0x68, 16));                        // s_uuid
        string version = $"{Le32(sb, 0x4C)}.{Le16(sb, 0x3E)}";           // s_rev_level.s_minor_rev_level

        if ((incompat & IncompatJournalDev) != 0)
            return new FileSystemInfo("jbd", label, uuid, version) { IsMountable = false };

        string type;
        bool journal = (compat & CompatHasJournal) != 0;
        if ((Le32(sb, 0x160) & FlagsTestFilesystem) != 0) type = "ext4dev";  // s_flags, probed before ext4 by blkid
        else if (!journal && (roCompat & ~Ext2RoCompatSupported) == 0 && (incompat & ~Ext2IncompatSupported) == 0) type = "ext2";
        else if (journal && (roCompat & ~Ext2RoCompatSupported) == 0 && (incompat & ~Ext3IncompatSupported) == 0) type = "ext3";
        else type = "ext4";
        return new FileSystemInfo(type, label, uuid, version) { JournalDirty = journal && (incompat & IncompatRecover) != 0 };
    }
}
