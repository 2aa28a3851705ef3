using System.Globalization;
using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>VMware VMFS filesystem header (magic 0x2fabf15e at 2 MiB), as libblkid's vmfs.c. Named, not mounted.</summary>
public sealed class VmfsProbe : SuperblockProbe
{
    internal const string NotSupported = "VMFS: a VMware ESXi datastore, not a guest's filesystem; restore from its virtual disks; not supported";
    private const long HeaderOffset = 2 * 1024 * 1024;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? h = device.TryRead(HeaderOffset, 29 + 128);
        if (h is null || Le32(h, 0) != 0x2fabf15e) return null;
        string? uuid = VmwareUuid(h.AsSpan(9, 16));
        string version = h[8].ToString(CultureInfo.InvariantCulture);
        return new FileSystemInfo("VMFS", Label(h.AsSpan(29, 128)), uuid, version) { IsMountable = false, Reason = NotSupported };
    }

    /// <summary>VMware's UUID text: two little-endian words, then the rest in order ("%08x-%08x-%04x-%012x" style).</summary>
    internal static string? VmwareUuid(ReadOnlySpan<byte> u)
    {
        if (!u.ContainsAnyExcept((byte)0)) return null;
        return string.Create(CultureInfo.InvariantCulture,
            $"{Le32(u, 0):x8}-{Le32(u, 4):x8}-{u[9]:x2}{u[8]:x2}-{Convert.ToHexStringLower(u[10..16])}");
    }
}
