using System.Text;
using RestoreTools.Engine.Disks;
using RestoreTools.Engine.Partitions;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.Buckets.Lvm;

/// <summary>
/// An LVM2 physical volume as lvm2 writes it: the label ("LABELONE", one of the first four
/// sectors) with its pv_header (the PV's id, size, data area and metadata areas), and in a
/// metadata area the mda_header whose first raw location points at the newest metadata text in a
/// circular buffer. Both header and text carry lvm2's CRC (reflected CRC-32 from 0xf597a6cf, no
/// final XOR), so a torn or stale copy is refused rather than believed.
/// </summary>
public sealed record LvmPhysicalVolume(string Id, long DeviceSize, long DataOffset, string? MetadataText)
{
    private const uint InitialCrc = 0xf597a6cf;
    private const int MdaHeaderSize = 512;
    private const int MaxMetadata = 64 << 20;
    private static readonly byte[] MdaMagic = " LVM2 x[5A%r0N*>"u8.ToArray();

    /// <summary>lvm2's calc_crc: CRC-32 (0xEDB88320) started from initial, without the final inversion.</summary>
    public static uint Crc(uint initial, ReadOnlySpan<byte> data) => ~Crc32.Append(~initial, data);

    /// <summary>The PV on this device, or null when it carries no LVM2 label. Bad metadata is an InvalidDataException.</summary>
    public static LvmPhysicalVolume? Read(IBlockReader device)
    {
        for (int sector = 0; sector < 4; sector++)
        {
            var label = device.TryRead(sector * 512L, 512);
            if (label is null) return null;
            if (!Matches(label, 0, "LABELONE") || Le64(label, 8) != (ulong)sector || !Matches(label, 24, "LVM2 001")) continue;
            // crc_xl covers the label from offset_xl (20) to the sector's end.
            if (Crc(InitialCrc, label.AsSpan(20)) != Le32(label, 16))
                throw new InvalidDataException($"the LVM2 label in sector {sector} has a bad checksum");
            uint offset = Le32(label, 20);
            if (offset is < 32 or > 512 - 40) throw new InvalidDataException("the LVM2 label points outside its sector");
            return FromHeader(device, label, (int)offset);
        }
        return null;
    }

    private static LvmPhysicalVolume FromHeader(IBlockReader device, byte[] label, int at)
    {
        string id = Encoding.ASCII.GetString(label, at, 32);
        long size = (long)Le64(label, at + 32);
        int pos = at + 40;
        // disk_locn lists, each ended by a zero entry: data areas, then metadata areas.
        var data = Locations(label, ref pos);
        var metadata = Locations(label, ref pos);
        long dataOffset = data.Count > 0 ? data[0].Offset : 0;
        string? text = null;
        foreach (var (offset, length) in metadata)
        {
            text = ReadMetadataArea(device, offset, length);
            if (text is not null) break;
        }
        return new LvmPhysicalVolume(id, size, dataOffset, text);
    }

    private static List<(long Offset, long Length)> Locations(byte[] label, ref int pos)
    {
        var list = new List<(long, long)>();
        while (pos + 16 <= label.Length)
        {
            ulong offset = Le64(label, pos), length = Le64(label, pos + 8);
            pos += 16;
            if (offset == 0) return list;
            if (offset > long.MaxValue || length > long.MaxValue) throw new InvalidDataException("an LVM2 area past any disk");
            list.Add(((long)offset, (long)length));
        }
        throw new InvalidDataException("an LVM2 pv_header whose area lists run off its sector");
    }

    /// <summary>The newest metadata text in one metadata area, or null when the area holds none.</summary>
    private static string? ReadMetadataArea(IBlockReader device, long start, long size)
    {
        var header = device.TryRead(start, MdaHeaderSize) ?? throw new InvalidDataException("an LVM2 metadata area past the disk's end");
        if (!header.AsSpan(4, 16).SequenceEqual(MdaMagic)) throw new InvalidDataException("an LVM2 metadata area without its magic");
        if (Crc(InitialCrc, header.AsSpan(4)) != Le32(header, 0)) throw new InvalidDataException("an LVM2 metadata area header with a bad checksum");
        // raw_locns after checksum(4) magic(16) version(4) start(8) size(8): offset, size, checksum, flags.
        ulong textOffset = Le64(header, 40), textSize = Le64(header, 48);
        uint textCrc = Le32(header, 56);
        if (textSize == 0) return null;
        if (textSize > MaxMetadata || textOffset < MdaHeaderSize || textOffset >= (ulong)size || textSize > (ulong)size - MdaHeaderSize)
            throw new InvalidDataException("LVM2 metadata whose location lies outside its area");
        // The buffer is circular: text that runs past the area's end goes on after its header.
        var text = new byte[textSize];
        long first = Math.Min((long)textSize, size - (long)textOffset);
        var a = device.TryRead(start + (long)textOffset, (int)first) ?? throw new InvalidDataException("LVM2 metadata past the disk's end");
        a.CopyTo(text, 0);
        if (first < (long)textSize)
        {
            var b = device.TryRead(start + MdaHeaderSize, (int)((long)textSize - first)) ?? throw new InvalidDataException("LVM2 metadata past the disk's end");
            b.CopyTo(text, (int)first);
        }
        if (Crc(InitialCrc, text) != textCrc) throw new InvalidDataException("LVM2 metadata with a bad checksum");
        int end = Array.IndexOf(text, (byte)0);
        return Encoding.UTF8.GetString(text, 0, end < 0 ? text.Length : end);
    }
}
