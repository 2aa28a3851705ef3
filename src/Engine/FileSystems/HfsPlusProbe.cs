using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>
/// HFS+ and HFSX: the volume header ("H+"/"HX") at 1 KiB, or inside an HFS wrapper. The label is the name of
/// the root folder's thread record, the first record of the catalog B-tree's first leaf (libblkid's hfs.c).
/// </summary>
public sealed class HfsPlusProbe : SuperblockProbe
{
    private const int HeaderSize = 512, BlockSizeOffset = 40, CatalogExtentsOffset = 288, ExtentCount = 8;
    private const int NodeDescriptorSize = 14, CatalogKeySize = 2 + 4 + 2 + 255 * 2;
    private const uint RootParentId = 1;

    protected override FileSystemInfo? ProbeCore(IBlockReader device)
    {
        byte[]? first = device.TryRead(HfsProbe.MdbOffset, HfsProbe.MdbSize);
        if (first is null) return null;

        long off = 0;
        byte[]? vh;
        if (Matches(first, 0, "BD"))
        {
            if (!Matches(first, HfsProbe.EmbedSigOffset, "H+") && !Matches(first, HfsProbe.EmbedSigOffset, "HX")) return null;
            // The embedded volume starts at the wrapper's first allocation block plus its start block.
            uint allocBlockSize = Be32(first, 20), firstAllocBlock = Be16(first, 28), embedStart = Be16(first, 126);
            off = (uint)unchecked(firstAllocBlock * 512 + embedStart * allocBlockSize);   // C unsigned int arithmetic
            vh = device.TryRead(off + HfsProbe.MdbOffset, HeaderSize);
        }
        else if (Matches(first, 0, "H+") || Matches(first, 0, "HX")) vh = device.TryRead(HfsProbe.MdbOffset, HeaderSize);
        else return null;
        if (vh is null || !(Matches(vh, 0, "H+") || Matches(vh, 0, "HX"))) return null;

        string? uuid = HfsProbe.FinderUuid(vh.AsSpan(104, 8));
        uint blocksize = Be32(vh, BlockSizeOffset);
        if (blocksize < 512) return null;
        return new FileSystemInfo("hfsplus", VolumeName(device, vh, off, blocksize), uuid);
    }

    /// <summary>The root folder's name from the catalog's first leaf; null wherever blkid gives up without a label.</summary>
    private static string? VolumeName(IBlockReader device, byte[] vh, long off, uint blocksize)
    {
        var extents = new (uint Start, uint Count)[ExtentCount];
        for (int i = 0; i < ExtentCount; i++)
            extents[i] = (Be32(vh, CatalogExtentsOffset + i * 8), Be32(vh, CatalogExtentsOffset + i * 8 + 4));

        byte[]? header = device.TryRead(off + (long)extents[0].Start * blocksize, 0x2000);
        if (header is null) return null;
        uint leafHead = Be32(header, NodeDescriptorSize + 10), leafCount = Be32(header, NodeDescriptorSize + 6);
        ushort nodeSize = Be16(header, NodeDescriptorSize + 18);
        if (nodeSize < NodeDescriptorSize + CatalogKeySize || leafCount == 0) return null;

        uint leafBlock = unchecked(leafHead * nodeSize) / blocksize;      // unsigned int arithmetic, as blkid
        int ext = 0;
        for (; ext < ExtentCount; ext++)
        {
            if (extents[ext].Count == 0) return null;
            if (leafBlock < extents[ext].Count) break;
            leafBlock -= extents[ext].Count;
        }
        if (ext == ExtentCount) return null;

        ulong leafOff = ((ulong)extents[ext].Start + leafBlock) * blocksize;
        if (leafOff > long.MaxValue / 2) return null;
        byte[]? node = device.TryRead(off + (long)leafOff, nodeSize);
        if (node is null) return null;
        if (Be16(node, 10) == 0 || node[8] != 0xFF) return null;         // num_recs, kind: a leaf node

        int key = NodeDescriptorSize;
        ushort nameLen = Be16(node, key + 6);
        if (Be32(node, key + 2) != RootParentId || nameLen > 255) return null;
        return Utf16Label(node.AsSpan(key + 8, nameLen * 2), bigEndian: true);
    }
}
