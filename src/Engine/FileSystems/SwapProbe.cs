using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>Linux swap: the signature ends the first page, whatever the page size was; the v1 header sits at 1024.</summary>
public sealed class SwapProbe : SuperblockProbe
{
    private const string SwapReason = "swap space: holds no files";
    private static readonly int[] PageSizes = [4096, 8192, 16384, 32768, 65536];

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        foreach (int page in PageSizes)
        {
            byte[]? sig = device.TryRead(page - 10, 10);
            if (sig is null) return null;
            if (Matches(sig, 0, "SWAP-SPACE"))                             // v0: no label or UUID
                return new FileSystemInfo("swap", Version: "0") { IsMountable = false, Reason = SwapReason };
            if (Matches(sig, 0, "SWAPSPACE2")) return Header(device, "swap", strict: true);
            // Hibernation images overwrite the signature; blkid calls them swsuspend and skips the header checks.
            if (Matches(sig, 0, "S1SUSPEND") || Matches(sig, 0, "S2SUSPEND") || Matches(sig, 0, "ULSUSPEND")
                || Matches(sig, 0, "LINHIB0001"))
                return Header(device, "swsuspend", strict: false);
        }
        return null;
    }

    private static FileSystemInfo? Header(IBlockReader device, string type, bool strict)
    {
        byte[]? hdr = device.TryRead(1024, 1068 - 1024);
        if (hdr is null) return null;
        // version (1024) must be 1 in either byte order and last_page (1028) non-zero.
        if (strict && Le32(hdr, 0) != 1 && Be32(hdr, 0) != 1) return null;
        if (strict && Le32(hdr, 4) == 0) return null;
        string? uuid = Uuid(hdr.AsSpan(12, 16));                          // uuid at 1036
        string? label = Label(hdr.AsSpan(28, 16));                        // volume_name at 1052
        return new FileSystemInfo(type, label, uuid, strict ? "1" : null)
        {
            IsMountable = false,
            Reason = strict ? SwapReason : "a hibernation image in swap space: holds no files",
        };
    }
}
