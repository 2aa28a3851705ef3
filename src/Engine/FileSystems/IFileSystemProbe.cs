using RestoreTools.Engine.Disks;

namespace RestoreTools.Engine.FileSystems;

/// <summary>What a superblock says: the type name as blkid spells it, label and UUID where the format has them.</summary>
public sealed record FileSystemInfo(string Type, string? Label = null, string? Uuid = null, string? Version = null)
{
    /// <summary>False for signatures that are not mountable filesystems (swap, LVM2_member, crypto_LUKS, ...).</summary>
    public bool IsMountable { get; init; } = true;

    /// <summary>
    /// The journal holds changes not yet written in place (a crash-consistent backup of a running
    /// VM): a read-only mount without replay (noload) does not show them.
    /// </summary>
    public bool JournalDirty { get; init; }

    /// <summary>
    /// For a signature that is not mounted (IsMountable false): what it is and what the user can do, in one
    /// short sentence ("BitLocker: encrypted, needs its recovery key; not supported"). Null when the type
    /// name says enough.
    /// </summary>
    public string? Reason { get; init; }

    /// <summary>
    /// Byte offset of the superblock the probe found, where a format allows several places and the
    /// driver must be told which (UFS: UFS2 at 64 KiB, UFS1 at 8 KiB; NetBSD makefs puts UFS2 at 8 KiB).
    /// </summary>
    public long? SuperblockOffset { get; init; }
}

/// <summary>Recognises one on-disk format from its superblock, without mounting.</summary>
public interface IFileSystemProbe
{
    /// <summary>Returns the format's description, or null when the signature is absent.</summary>
    FileSystemInfo? Probe(IBlockReader device);
}
