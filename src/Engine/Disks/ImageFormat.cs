using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace RestoreTools.Engine.Disks;

/// <summary>
/// What an image file is, from its first bytes: raw, or a container format (qcow2, vmdk, vhdx,
/// vdi, vhd) that must be read through qemu's block layer, never as raw bytes (its header would
/// look like a disk without a partition table). Formats that can name other files (a qcow2 or qed
/// backing file, a vmdk descriptor's extents) are refused: an image must not make the host read a
/// file that its owner did not give.
/// </summary>
internal static class ImageFormat
{
    public const string Raw = "raw";

    /// <summary>The qemu driver for the image, or Raw.</summary>
    public static string Detect(SafeFileHandle file, string imagePath)
    {
        var head = new byte[512];
        int n = RandomAccess.Read(file, head, 0);
        var h = head.AsSpan(0, n);
        if (h.StartsWith((ReadOnlySpan<byte>)[0x51, 0x46, 0x49, 0xFB])) // "QFI\xfb"
        {
            uint version = n >= 8 ? BinaryPrimitives.ReadUInt32BigEndian(h[4..]) : 0;
            ulong backing = n >= 16 ? BinaryPrimitives.ReadUInt64BigEndian(h[8..]) : 0;
            if (backing != 0) throw Refused(imagePath, "a qcow2 image with a backing file (an overlay): give its base image, or merge them with qemu-img convert");
            return version == 1 ? "qcow" : "qcow2";
        }
        if (h.StartsWith("QED\0"u8))
        {
            ulong backing = n >= 64 ? BinaryPrimitives.ReadUInt32LittleEndian(h[56..]) : 0;
            if (backing != 0) throw Refused(imagePath, "a qed image with a backing file");
            return "qed";
        }
        if (h.StartsWith("KDMV"u8)) return "vmdk";   // a single-file sparse or stream-optimized vmdk
        if (h.StartsWith("# Disk DescriptorFile"u8))
            throw Refused(imagePath, "a vmdk descriptor, which names its extents as other files: give a single-file vmdk (qemu-img convert -O vmdk)");
        if (h.StartsWith("vhdxfile"u8)) return "vhdx";
        if (n >= 68 && BinaryPrimitives.ReadUInt32LittleEndian(h[64..]) == 0xBEDA107F) return "vdi";
        // A dynamic VHD starts with its footer copy; a fixed one is raw with a footer at its end, and reads as raw.
        if (h.StartsWith("conectix"u8)) return "vpc";
        return Raw;
    }

    private static RestoreException Refused(string imagePath, string what) =>
        new(RestoreErrorCode.NotSupported, $"'{imagePath}' is {what}", imagePath);
}
