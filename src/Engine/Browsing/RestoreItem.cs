namespace RestoreTools.Engine.Browsing;

public enum ItemType { Directory, File, Symlink, BlockDevice, CharDevice, Fifo, Socket, Disk, BucketType, Bucket }

/// <summary>An entry as a listing gives it: metadata from lstat, so a symlink is itself, not its target.</summary>
public sealed record RestoreItem(
    string Name,
    string Path,                 // restore path: /disk/part/1/etc/passwd
    ItemType Type,
    long Size,
    DateTimeOffset? LastWriteTime,
    int Mode,                    // permission bits with setuid/setgid/sticky (07777)
    long? Uid,
    long? Gid,
    string? LinkTarget,
    byte[]? RawName = null)      // the name's bytes, only where they are not UTF-8 (Name then shows them as \xHH)
{
    /// <summary>ls -l style: "drwxr-xr-x".</summary>
    public string ModeString => Browsing.ModeText.Format(Type, Mode);

    /// <summary>Octal, as chmod takes it: "0755".</summary>
    public string ModeOctal => Convert.ToString(Mode & 0xFFF, 8).PadLeft(4, '0');

    public bool IsContainer => Type is ItemType.Directory or ItemType.Disk or ItemType.BucketType or ItemType.Bucket;
}
