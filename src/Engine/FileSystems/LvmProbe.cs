using System.Text;
using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>LVM2 physical volume: a "LABELONE" label in one of the first four 512-byte sectors.</summary>
public sealed class LvmProbe : SuperblockProbe
{
    private const int LabelSize = 512, IdLength = 32;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        for (int sector = 0; sector < 4; sector++)
        {
            byte[]? label = device.TryRead(sector * 512L, LabelSize);
            if (label is null) return null;
            if (!Matches(label, 0, "LABELONE") || !Matches(label, 24, "LVM2 001")) continue;   // id, type
            if (Le64(label, 8) != (ulong)sector) continue;               // sector_xl: where the label claims to be
            if (Crc(label.AsSpan(20)) != Le32(label, 16)) continue;      // crc_xl covers offset_xl to the sector end

            uint pvOffset = Le32(label, 20);                               // offset_xl: pv_header, relative to the label
            if (pvOffset > LabelSize - IdLength) continue;                // (pvOffset + IdLength would wrap for a huge offset)
            var id = label.AsSpan((int)pvOffset, IdLength);
            return new FileSystemInfo("LVM2_member", Uuid: FormatId(id), Version: "LVM2 001") { IsMountable = false };
        }
        return null;
    }

    /// <summary>lvm2 prints the 32-character id as 6-4-4-4-4-4-6.</summary>
    private static string FormatId(ReadOnlySpan<byte> id)
    {
        var sb = new StringBuilder(38);
        for (int i = 0; i < IdLength; i++)
        {
            if (i is 6 or 10 or 14 or 18 or 22 or 26) sb.Append('-');
            sb.Append((char)id[i]);
        }
        return sb.ToString();
    }

    /// <summary>LVM's label CRC: reflected CRC-32 (0xEDB88320) seeded 0xf597a6cf, no final inversion.</summary>
    private static uint Crc(ReadOnlySpan<byte> data)
    {
        uint crc = 0xf597a6cf;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return crc;
    }
}
