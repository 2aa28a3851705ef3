using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>Microsoft ReFS: "ReFS" at offset 3 after three zero bytes, as libblkid's magic. Named, not mounted.</summary>
public sealed class RefsProbe : SuperblockProbe
{
    internal const string NotSupported = "ReFS: no Linux kernel driver reads it; copy the files out on Windows; not supported";

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? bs = device.TryRead(0, 8);
        if (bs is null || bs[0] != 0 || bs[1] != 0 || bs[2] != 0 || !Matches(bs, 3, "ReFS") || bs[7] != 0) return null;
        return new FileSystemInfo("ReFS") { IsMountable = false, Reason = NotSupported };
    }
}
