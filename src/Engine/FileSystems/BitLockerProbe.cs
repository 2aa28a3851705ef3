using System.Globalization;
using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>
/// BitLocker: the "-FVE-FS-" boot sector (Vista, Windows 7 and later) or the BitLocker To Go one
/// ("MSWIN4.1" with a pointer to "-FVE-FS-" metadata), as libblkid's bitlocker.c. Named, not mounted.
/// </summary>
public sealed class BitLockerProbe : SuperblockProbe
{
    internal const string NotSupported = "BitLocker: encrypted, needs its recovery key; not supported";
    private enum Kind { None, Vista, Win7, ToGo }

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        var (kind, bs, fve) = Headers(device);
        if (kind == Kind.None) return null;
        string? uuid = null, version = null;
        if (kind == Kind.Win7 && bs is not null)
        {
            // volume_serial, printed "%016d" from a signed int; zero means none.
            int serial = unchecked((int)Le32(bs, 67));
            if (serial != 0)
                uuid = serial < 0
                    ? "-" + (-(long)serial).ToString(CultureInfo.InvariantCulture).PadLeft(15, '0')
                    : serial.ToString(CultureInfo.InvariantCulture).PadLeft(16, '0');
        }
        if (fve is not null) version = Le16(fve, 10).ToString(CultureInfo.InvariantCulture);
        return new FileSystemInfo("BitLocker", null, uuid, version) { IsMountable = false, Reason = NotSupported };
    }

    /// <summary>True when the device starts with a BitLocker header; the FAT and NTFS probes defer to it, as in blkid.</summary>
    internal static bool IsBitLocker(IBlockReader device) => Headers(device).Kind != Kind.None;

    private static (Kind Kind, byte[]? BootSector, byte[]? Fve) Headers(IBlockReader device)
    {
        byte[]? bs = device.TryRead(0, 512);
        if (bs is null) return (Kind.None, null, null);
        Kind kind = bs[0] != 0xEB || bs[2] != 0x90 ? Kind.None
            : bs[1] == 0x52 && Matches(bs, 3, "-FVE-FS-") ? Kind.Vista
            : bs[1] == 0x58 && Matches(bs, 3, "-FVE-FS-") ? Kind.Win7
            : bs[1] == 0x58 && Matches(bs, 3, "MSWIN4.1") ? Kind.ToGo
            : Kind.None;
        if (kind == Kind.None) return (Kind.None, null, null);
        if (kind == Kind.Vista) return (kind, null, null);

        ulong off = Le64(bs, kind == Kind.Win7 ? 176 : 440);              // fve_metadata_offset
        if (off == 0 || off > long.MaxValue) return (Kind.None, null, null);
        byte[]? fve = device.TryRead((long)off, 12);
        if (fve is null || !Matches(fve, 0, "-FVE-FS-")) return (Kind.None, null, null);
        return (kind, bs, fve);
    }
}
