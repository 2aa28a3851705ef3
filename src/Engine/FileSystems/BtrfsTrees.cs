using System.Text;
using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems;

/// <summary>
/// Reads just enough of btrfs's B-trees off the disk to name the default subvolume without mounting: the chunk
/// map (bootstrap array in the superblock, then the chunk tree), the root tree's "default" dir item and
/// ROOT_BACKREFs, and INODE_REFs in each parent subvolume. One device of a single-device filesystem (single,
/// dup and raid1-style chunks); anything else, or anything that does not add up, gives null. The mounted
/// filesystem's own answer (Native/BtrfsIoctl.cs) replaces this once the bucket is mounted.
/// </summary>
internal sealed class BtrfsTrees
{
    private const byte InodeRef = 12, DirItem = 84, RootItem = 132, RootBackref = 144, ChunkItem = 228;
    private const ulong TopLevel = 5, RootTreeDir = 6, FirstFreeObjectId = 256;
    private const ulong StripedProfiles = (1 << 3) | (1 << 6) | (1 << 7) | (1 << 8); // raid0, raid10, raid5, raid6
    private const int HeaderSize = 101, LeafItemSize = 25, KeyPtrSize = 33, MaxLevel = 7, MaxNodeReads = 2048;

    private readonly IBlockReader _device;
    private readonly byte[] _fsid;
    private readonly ulong _devid;
    private readonly int _nodeSize;
    private readonly List<(ulong Logical, ulong Length, ulong Physical)> _chunks = [];
    private int _reads;

    private BtrfsTrees(IBlockReader device, byte[] sb, int nodeSize)
    {
        _device = device;
        // Nodes carry the metadata_uuid instead of the fsid when the METADATA_UUID incompat flag (bit 10) is set.
        _fsid = sb.AsSpan((Le64(sb, 0xBC) & (1UL << 10)) != 0 ? 0x23B : 0x20, 16).ToArray();
        _devid = Le64(sb, 0xC9);           // dev_item.devid
        _nodeSize = nodeSize;
    }

    /// <summary>The default subvolume's path from the top level ("/" the top level itself), or null when unknown.</summary>
    public static string? DefaultSubvolume(IBlockReader device, byte[] sb)
    {
        int nodeSize = (int)Le32(sb, 0x94);
        if (nodeSize < 4096 || nodeSize > 65536) return null;
        var t = new BtrfsTrees(device, sb, nodeSize);
        if (!t.ReadSystemChunks(sb)) return null;
        // Chunk tree (at chunk_root, level chunk_root_level): every chunk, the system ones again.
        foreach (var (key, data) in t.Items(Le64(sb, 0x58), sb[0xC7], 256, ChunkItem, anyObjectId: true) ?? [])
            t.AddChunk(key.Offset, data);
        ulong rootTree = Le64(sb, 0x50);
        byte rootLevel = sb[0xC6];
        var dirItems = t.Items(rootTree, rootLevel, RootTreeDir, DirItem);
        if (dirItems is null) return null;
        ulong id = TopLevel;
        foreach (var (_, data) in dirItems)
            if (DefaultLocation(data) is { } loc) id = loc;
        return t.PathOf(rootTree, rootLevel, id);
    }

    private string? PathOf(ulong rootTree, byte rootLevel, ulong id)
    {
        var parts = new List<string>();
        for (int depth = 0; id != TopLevel; depth++)
        {
            if (depth == 64) return null;
            var backrefs = Items(rootTree, rootLevel, id, RootBackref);
            if (backrefs is not { Count: > 0 }) return null;
            var (key, data) = backrefs[0];
            // struct btrfs_root_ref: u64 dirid, u64 sequence, u16 name_len, name.
            if (data.Length < 18) return null;
            ulong dirid = Le64(data, 0);
            int nameLen = Le16(data, 16);
            if (18 + nameLen > data.Length) return null;
            string? dir = DirPath(rootTree, rootLevel, key.Offset, dirid);
            if (dir is null) return null;
            parts.Insert(0, dir + Encoding.UTF8.GetString(data, 18, nameLen));
            id = key.Offset;
        }
        return "/" + string.Join('/', parts);
    }

    /// <summary>A directory's path inside a subvolume ("" for its root, else ending in '/'), from its INODE_REFs.</summary>
    private string? DirPath(ulong rootTree, byte rootLevel, ulong subvolume, ulong dirid)
    {
        if (dirid == FirstFreeObjectId) return "";
        var roots = Items(rootTree, rootLevel, subvolume, RootItem);
        if (roots is not { Count: > 0 } || roots[0].Data.Length < 239) return null;
        // struct btrfs_root_item: inode item (160), generation, root_dirid, bytenr at 176, ..., level at 238.
        ulong fsTree = Le64(roots[0].Data, 176);
        byte fsLevel = roots[0].Data[238];
        var names = new List<string>();
        for (ulong ino = dirid; ino != FirstFreeObjectId;)
        {
            if (names.Count == 256) return null;
            var refs = Items(fsTree, fsLevel, ino, InodeRef);
            if (refs is not { Count: > 0 }) return null;
            var (key, data) = refs[0];
            // struct btrfs_inode_ref: u64 index, u16 name_len, name; the key's offset is the parent directory.
            if (data.Length < 10) return null;
            int nameLen = Le16(data, 8);
            if (10 + nameLen > data.Length || key.Offset == ino) return null;
            names.Insert(0, Encoding.UTF8.GetString(data, 10, nameLen));
            ino = key.Offset;
        }
        return string.Concat(names.Select(n => n + "/"));
    }

    /// <summary>The location objectid of the dir item named "default" among the packed dir items of one item.</summary>
    internal static ulong? DefaultLocation(byte[] data)
    {
        // struct btrfs_dir_item: location key (17), u64 transid, u16 data_len, u16 name_len, u8 type, name, data.
        for (int at = 0; at + 30 <= data.Length;)
        {
            int dataLen = Le16(data, at + 25), nameLen = Le16(data, at + 27);
            if (at + 30 + nameLen > data.Length) return null;
            if (data.AsSpan(at + 30, nameLen).SequenceEqual("default"u8)) return Le64(data, at);
            at += 30 + nameLen + dataLen;
        }
        return null;
    }

    private bool ReadSystemChunks(byte[] sb)
    {
        // sys_chunk_array: (disk key, chunk item) pairs, sys_chunk_array_size bytes at 0x32B.
        int size = (int)Le32(sb, 0xA0);
        if (size > 2048 || 0x32B + size > sb.Length) return false;
        var array = sb.AsSpan(0x32B, size).ToArray();
        for (int at = 0; at + 17 + 48 <= size;)
        {
            if (array[at + 8] != ChunkItem) return false;
            ulong logical = Le64(array, at + 9);
            at += 17;
            int stripes = Le16(array, at + 44);
            int len = 48 + 32 * stripes;
            if (stripes == 0 || at + len > size) return false;
            AddChunk(logical, array.AsSpan(at, len).ToArray());
            at += len;
        }
        return _chunks.Count > 0;
    }

    private void AddChunk(ulong logical, byte[] chunk)
    {
        // struct btrfs_chunk: length, owner, stripe_len, type, io_align, io_width, sector_size, u16 num_stripes,
        // u16 sub_stripes, then stripes (u64 devid, u64 offset, 16-byte dev uuid).
        if (chunk.Length < 48) return;
        ulong length = Le64(chunk, 0), type = Le64(chunk, 24);
        int stripes = Le16(chunk, 44);
        if ((type & StripedProfiles) != 0 || length == 0 || chunk.Length < 48 + 32 * stripes) return;
        for (int s = 0; s < stripes; s++)
        {
            if (Le64(chunk, 48 + 32 * s) != _devid) continue;
            if (!_chunks.Any(c => c.Logical == logical)) _chunks.Add((logical, length, Le64(chunk, 48 + 32 * s + 8)));
            return;
        }
    }

    /// <summary>The node at a logical address, checked to be this filesystem's node at that address and level.</summary>
    private byte[]? Node(ulong logical, int level)
    {
        if (++_reads > MaxNodeReads) return null;
        foreach (var (start, length, physical) in _chunks)
        {
            if (logical < start || logical - start >= length || logical - start > length - (ulong)_nodeSize) continue;
            ulong at = physical + (logical - start);
            if (at > long.MaxValue) return null;
            var node = _device.TryRead((long)at, _nodeSize);
            if (node is null || Le64(node, 48) != logical || !node.AsSpan(32, 16).SequenceEqual(_fsid) || node[100] != level) return null;
            return node;
        }
        return null;
    }

    private readonly record struct Key(ulong ObjectId, byte Type, ulong Offset);

    private static Key KeyAt(byte[] b, int o) => new(Le64(b, o), b[o + 8], Le64(b, o + 9));

    private static int Compare(Key a, ulong objectId, byte type) =>
        a.ObjectId != objectId ? a.ObjectId.CompareTo(objectId) : a.Type.CompareTo(type);

    /// <summary>
    /// Leaf items of one type with one objectid (or every objectid), in key order; null when a node on the way
    /// cannot be read.
    /// </summary>
    private List<(Key Key, byte[] Data)>? Items(ulong root, int level, ulong objectId, byte type, bool anyObjectId = false)
    {
        if (level > MaxLevel) return null;
        var result = new List<(Key, byte[])>();
        return Walk(root, level, objectId, type, anyObjectId, result) ? result : null;
    }

    private bool Walk(ulong logical, int level, ulong objectId, byte type, bool anyObjectId, List<(Key, byte[])> result)
    {
        var node = Node(logical, level);
        if (node is null) return false;
        int count = (int)Math.Min(Le32(node, 96), (uint)_nodeSize);
        if (level == 0)
        {
            for (int i = 0; i < count; i++)
            {
                int o = HeaderSize + i * LeafItemSize;
                if (o + LeafItemSize > _nodeSize) return false;
                var key = KeyAt(node, o);
                bool match = anyObjectId ? key.Type == type : key.ObjectId == objectId && key.Type == type;
                if (!match) continue;
                int dataAt = HeaderSize + (int)Math.Min(Le32(node, o + 17), (uint)_nodeSize);
                int size = (int)Math.Min(Le32(node, o + 21), (uint)_nodeSize);
                if (dataAt + size > _nodeSize) return false;
                result.Add((key, node.AsSpan(dataAt, size).ToArray()));
            }
            return true;
        }
        for (int i = 0; i < count; i++)
        {
            int o = HeaderSize + i * KeyPtrSize;
            if (o + KeyPtrSize > _nodeSize) return false;
            if (!anyObjectId)
            {
                // Child i holds keys from its own key up to the next one's: skip those wholly before or after.
                if (Compare(KeyAt(node, o), objectId, type) > 0) break;
                int next = o + KeyPtrSize;
                if (i + 1 < count && next + KeyPtrSize <= _nodeSize && Compare(KeyAt(node, next), objectId, type) < 0) continue;
            }
            if (!Walk(Le64(node, o + 17), level - 1, objectId, type, anyObjectId, result)) return false;
        }
        return true;
    }
}
