using System.Buffers.Binary;
using System.Text;
using Tmds.Linux;

namespace RestoreTools.Engine.Native;

/// <summary>
/// btrfs ioctls from linux/btrfs.h that tell a mounted filesystem's subvolumes: a search of the root tree
/// (BTRFS_IOC_TREE_SEARCH) and a directory's path inside a subvolume (BTRFS_IOC_INO_LOOKUP). Both need
/// CAP_SYS_ADMIN. Every name comes from the image.
/// </summary>
public static unsafe class BtrfsIoctl
{
    private const uint TreeSearch = 0xD0009411; // _IOWR(0x94, 17, struct btrfs_ioctl_search_args), 4096 bytes
    private const uint InoLookup = 0xD0009412;  // _IOWR(0x94, 18, struct btrfs_ioctl_ino_lookup_args), 4096 bytes
    private const int ArgsSize = 4096, SearchKeySize = 104, SearchHeaderSize = 32, LookupNameOffset = 16;
    private const ulong RootTree = 1, TopLevel = 5, RootTreeDir = 6;
    private const uint DirItemKey = 84, RootBackrefKey = 144;

    /// <summary>
    /// The default subvolume (the one a plain mount shows) as a path from the top level, "/" when it is the top
    /// level itself, with its id; null when the ioctls fail (not btrfs, not root).
    /// </summary>
    public static (string Path, ulong Id)? DefaultSubvolume(string mountPoint)
    {
        int fd;
        try { fd = Sys.Open(mountPoint, LibC.O_RDONLY | Sys.O_DIRECTORY); }
        catch (NativeException) { return null; }
        try
        {
            // The root tree's directory (objectid 6) holds one entry, "default", pointing at the default root.
            var items = Search(fd, RootTree, RootTreeDir, DirItemKey);
            if (items is null) return null;
            ulong id = TopLevel;
            foreach (var (_, data) in items)
                if (FileSystems.BtrfsTrees.DefaultLocation(data) is { } loc) id = loc;
            string? path = PathOf(fd, id);
            return path is null ? null : (path, id);
        }
        finally { Sys.Close(fd); }
    }

    /// <summary>A subvolume's path from the top level, following its ROOT_BACKREF up (at most 64 levels).</summary>
    private static string? PathOf(int fd, ulong id)
    {
        var parts = new List<string>();
        for (int depth = 0; id != TopLevel; depth++)
        {
            if (depth == 64) return null;
            var refs = Search(fd, RootTree, id, RootBackrefKey);
            if (refs is not { Count: > 0 }) return null;
            var (parent, data) = refs[0];
            // struct btrfs_root_ref: u64 dirid, u64 sequence, u16 name_len, then the name.
            if (data.Length < 18) return null;
            ulong dirid = BinaryPrimitives.ReadUInt64LittleEndian(data);
            int nameLen = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(16));
            if (18 + nameLen > data.Length) return null;
            string? dir = DirPath(fd, parent, dirid);
            if (dir is null) return null;
            parts.Insert(0, dir + Encoding.UTF8.GetString(data, 18, nameLen));
            id = parent;
        }
        return "/" + string.Join('/', parts);
    }

    /// <summary>A directory's path inside subvolume tree, "" for its root, else ending in '/'.</summary>
    private static string? DirPath(int fd, ulong tree, ulong dirid)
    {
        var args = new byte[ArgsSize];
        BinaryPrimitives.WriteUInt64LittleEndian(args, tree);
        BinaryPrimitives.WriteUInt64LittleEndian(args.AsSpan(8), dirid);
        fixed (byte* a = args)
        {
            if (Libc.ioctl(fd, InoLookup, a) < 0) return null;
        }
        int end = Array.IndexOf(args, (byte)0, LookupNameOffset);
        if (end < 0) end = ArgsSize;
        return Encoding.UTF8.GetString(args, LookupNameOffset, end - LookupNameOffset);
    }

    /// <summary>Items of one key type for one objectid of a tree: (key offset, item data); null when the ioctl fails.</summary>
    private static List<(ulong Offset, byte[] Data)>? Search(int fd, ulong tree, ulong objectid, uint type)
    {
        var result = new List<(ulong, byte[])>();
        ulong minOffset = 0;
        while (true)
        {
            var args = new byte[ArgsSize];
            var key = args.AsSpan(0, SearchKeySize);
            BinaryPrimitives.WriteUInt64LittleEndian(key, tree);
            BinaryPrimitives.WriteUInt64LittleEndian(key[8..], objectid);   // min_objectid
            BinaryPrimitives.WriteUInt64LittleEndian(key[16..], objectid);  // max_objectid
            BinaryPrimitives.WriteUInt64LittleEndian(key[24..], minOffset); // min_offset
            BinaryPrimitives.WriteUInt64LittleEndian(key[32..], ulong.MaxValue);
            BinaryPrimitives.WriteUInt64LittleEndian(key[40..], 0);         // min_transid
            BinaryPrimitives.WriteUInt64LittleEndian(key[48..], ulong.MaxValue);
            BinaryPrimitives.WriteUInt32LittleEndian(key[56..], type);      // min_type
            BinaryPrimitives.WriteUInt32LittleEndian(key[60..], type);      // max_type
            BinaryPrimitives.WriteUInt32LittleEndian(key[64..], 256);       // nr_items
            fixed (byte* a = args)
            {
                if (Libc.ioctl(fd, TreeSearch, a) < 0) return null;
            }
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(key[64..]);
            if (count == 0) return result;
            int at = SearchKeySize;
            ulong last = 0;
            for (uint i = 0; i < count; i++)
            {
                if (at + SearchHeaderSize > ArgsSize) return null;
                var h = args.AsSpan(at, SearchHeaderSize);
                ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(h[16..]);
                uint itemType = BinaryPrimitives.ReadUInt32LittleEndian(h[24..]);
                int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(h[28..]);
                at += SearchHeaderSize;
                if (len < 0 || at + len > ArgsSize) return null;
                if (itemType == type) result.Add((offset, args.AsSpan(at, len).ToArray()));
                at += len;
                last = offset;
            }
            if (last == ulong.MaxValue || result.Count > 4096) return result;
            minOffset = last + 1;
        }
    }
}
