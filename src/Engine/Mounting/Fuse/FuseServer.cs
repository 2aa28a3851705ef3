using System.Runtime.InteropServices;
using System.Text;
using RestoreTools.Engine.Native;
using static RestoreTools.Engine.Native.FuseProtocol;

namespace RestoreTools.Engine.Mounting.Fuse;

/// <summary>
/// Serves an <see cref="IReadOnlyTree{TNode}"/> through one FUSE connection, read-only. Every folder is
/// listed once and kept: a lookup is a hash probe, node ids never change and are never forgotten
/// (a restore reads a volume once), and the kernel may cache names, attributes and pages for as long
/// as it likes, since nothing here ever changes.
/// </summary>
internal sealed class FuseServer<TNode> where TNode : class
{
    // Read-only: the kernel may keep what it was told for a day.
    private const ulong ValidSeconds = 86400;
    // Reads of up to 1 MiB (256 pages) per request: a big file goes in few round trips.
    private const int MaxPages = 256;
    private const int MaxRead = MaxPages * 4096;
    // The kernel refuses a request buffer smaller than a write of max_write plus the headers.
    private const int MaxWrite = 4096;
    private const int RequestBuffer = 64 * 1024;

    private readonly IReadOnlyTree<TNode> _tree;
    private readonly FuseDevice _device;
    private readonly List<Node> _nodes = [];
    private readonly Lock _nodesLock = new();
    private readonly Action<string>? _warn;
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);

    private sealed class Node(ulong id, TNode source, TreeAttributes attributes, ulong parent)
    {
        public readonly ulong Id = id;
        public readonly TNode Source = source;
        public readonly TreeAttributes Attributes = attributes;
        public readonly ulong Parent = parent;
        public Node[]? Children;
        public Dictionary<string, Node>? ByName;
    }

    /// <param name="warn">Told why a request failed (a corrupt chain): the caller sees only EIO.</param>
    public FuseServer(IReadOnlyTree<TNode> tree, FuseDevice device, Action<string>? warn = null)
    {
        _tree = tree;
        _device = device;
        _warn = warn;
        _nodes.Add(new Node(RootId, tree.Root, tree.Attributes(tree.Root), RootId));
    }

    /// <summary>Answers requests until the connection ends (unmount, or the kernel aborts it).</summary>
    public void Run()
    {
        var request = GC.AllocateArray<byte>(RequestBuffer, pinned: true);
        var reply = GC.AllocateArray<byte>(Marshal.SizeOf<OutHeader>() + MaxRead + 64, pinned: true);
        while (true)
        {
            int n = _device.Read(request);
            if (n == 0) return;
            if (n < Marshal.SizeOf<InHeader>()) continue;
            var header = MemoryMarshal.Read<InHeader>(request);
            var body = request.AsSpan(Marshal.SizeOf<InHeader>(), Math.Max(0, Math.Min(n, (int)header.Len) - Marshal.SizeOf<InHeader>()));
            if (!Answer(header, body, reply)) return;
        }
    }

    /// <summary>Answers one request; false after DESTROY.</summary>
    private bool Answer(in InHeader header, ReadOnlySpan<byte> body, byte[] reply)
    {
        int length;
        try
        {
            switch (header.Opcode)
            {
                case Op.Init: length = Init(body, reply); break;
                case Op.Destroy: Send(header.Unique, 0, reply, 0); return false;
                // No answer to these: the kernel expects none.
                case Op.Forget or Op.BatchForget or Op.Interrupt: return true;
                case Op.Lookup: length = Lookup(header.NodeId, body, reply); break;
                case Op.GetAttr: length = GetAttr(header.NodeId, reply); break;
                case Op.Read: length = Read(header.NodeId, body, reply); break;
                case Op.ReadDir: length = ReadDir(header.NodeId, body, reply, plus: false); break;
                case Op.ReadDirPlus: length = ReadDir(header.NodeId, body, reply, plus: true); break;
                case Op.StatFs: length = StatFs(reply); break;
                case Op.Release or Op.ReleaseDir: length = 0; break;
                // No extended attributes: an empty list, and no attribute of any name.
                case Op.ListXattr: length = ListXattr(body, reply); break;
                case Op.GetXattr: length = -Sys.ENODATA; break;
                // ENOSYS once and the kernel stops asking: OPEN/OPENDIR (no_open), FLUSH, ACCESS (default_permissions).
                case Op.Open or Op.OpenDir or Op.Flush or Op.Access or Op.ReadLink: length = -Sys.ENOSYS; break;
                // Anything that would change the volume; the mount is read-only and never sends them.
                default: length = -Sys.EROFS; break;
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            length = -Sys.EIO;
            // Once per reason: the kernel retries a failed read page by page.
            bool first;
            lock (_warned) first = _warned.Count < 1000 && _warned.Add(ex.Message);
            if (first) _warn?.Invoke(ex.Message);
        }
        if (length < 0) Send(header.Unique, length, reply, 0);
        else Send(header.Unique, 0, reply, length);
        return true;
    }

    private void Send(ulong unique, int error, byte[] reply, int payload)
    {
        int total = Marshal.SizeOf<OutHeader>() + (error == 0 ? payload : 0);
        var header = new OutHeader { Len = (uint)total, Error = error, Unique = unique };
        MemoryMarshal.Write(reply, in header);
        _device.Write(reply.AsSpan(0, total));
    }

    private static Span<byte> Payload(byte[] reply) => reply.AsSpan(Marshal.SizeOf<OutHeader>());

    private static int Init(ReadOnlySpan<byte> body, byte[] reply)
    {
        var init = MemoryMarshal.Read<InitIn>(body);
        if (init.Major != Major) return -Sys.EPROTO;
        var wanted = InitFlags.AsyncRead | InitFlags.DoReaddirplus | InitFlags.NoOpenSupport | InitFlags.ParallelDirops
            | InitFlags.MaxPages | InitFlags.NoOpendirSupport;
        var answer = new InitOut
        {
            Major = Major,
            Minor = Math.Min(init.Minor, FuseProtocol.Minor),
            MaxReadahead = init.MaxReadahead,
            Flags = init.Flags & wanted,
            MaxBackground = 16,
            CongestionThreshold = 12,
            MaxWrite = MaxWrite,
            TimeGran = 1,
            MaxPages = MaxPages,
        };
        MemoryMarshal.Write(Payload(reply), in answer);
        return Marshal.SizeOf<InitOut>();
    }

    private Node? Find(ulong id)
    {
        lock (_nodesLock) return id >= 1 && id <= (ulong)_nodes.Count ? _nodes[(int)(id - 1)] : null;
    }

    /// <summary>The folder's entries, listed on first use.</summary>
    private Node[] Children(Node folder)
    {
        if (Volatile.Read(ref folder.Children) is { } known) return known;
        lock (folder)
        {
            if (folder.Children is { } again) return again;
            var listed = _tree.List(folder.Source);
            var children = new Node[listed.Count];
            var byName = new Dictionary<string, Node>(listed.Count, StringComparer.Ordinal);
            lock (_nodesLock)
            {
                for (int i = 0; i < listed.Count; i++)
                {
                    var node = new Node((ulong)_nodes.Count + 1, listed[i], _tree.Attributes(listed[i]), folder.Id);
                    _nodes.Add(node);
                    children[i] = node;
                    byName.TryAdd(node.Attributes.Name, node);
                }
            }
            folder.ByName = byName;
            Volatile.Write(ref folder.Children, children);
            return children;
        }
    }

    private int Lookup(ulong parent, ReadOnlySpan<byte> body, byte[] reply)
    {
        if (Find(parent) is not { } folder) return -Sys.ENOENT;
        if (!folder.Attributes.IsFolder) return -Sys.ENOTDIR;
        int end = body.IndexOf((byte)0);
        string name = Encoding.UTF8.GetString(end < 0 ? body : body[..end]);
        Children(folder);
        if (!folder.ByName!.TryGetValue(name, out var node)) return -Sys.ENOENT;
        var entry = Entry(node);
        MemoryMarshal.Write(Payload(reply), in entry);
        return Marshal.SizeOf<EntryOut>();
    }

    private int GetAttr(ulong id, byte[] reply)
    {
        if (Find(id) is not { } node) return -Sys.ENOENT;
        var answer = new AttrOut { AttrValid = ValidSeconds, Attr = AttrOf(node) };
        MemoryMarshal.Write(Payload(reply), in answer);
        return Marshal.SizeOf<AttrOut>();
    }

    private int Read(ulong id, ReadOnlySpan<byte> body, byte[] reply)
    {
        if (Find(id) is not { } node) return -Sys.ENOENT;
        if (node.Attributes.IsFolder) return -Sys.EISDIR;
        var request = MemoryMarshal.Read<ReadIn>(body);
        long size = node.Attributes.Size;
        if (request.Offset >= (ulong)size) return 0;
        int want = (int)Math.Min(Math.Min(request.Size, (uint)MaxRead), (ulong)size - request.Offset);
        var into = Payload(reply)[..want];
        int done = 0;
        while (done < want)
        {
            int got = _tree.Read(node.Source, (long)request.Offset + done, into[done..]);
            if (got <= 0) break;
            done += got;
        }
        return done;
    }

    private int ReadDir(ulong id, ReadOnlySpan<byte> body, byte[] reply, bool plus)
    {
        if (Find(id) is not { } folder) return -Sys.ENOENT;
        if (!folder.Attributes.IsFolder) return -Sys.ENOTDIR;
        var request = MemoryMarshal.Read<ReadIn>(body);
        var children = Children(folder);
        var into = Payload(reply)[..(int)Math.Min(request.Size, (uint)MaxRead)];
        int used = 0;
        // Offsets: 0 ".", 1 "..", 2 + i the i-th entry; each entry carries the offset of the next.
        for (ulong at = request.Offset; at < (ulong)children.Length + 2; at++)
        {
            Node? node = at >= 2 ? children[(int)(at - 2)] : null;
            string name = at switch { 0 => ".", 1 => "..", _ => node!.Attributes.Name };
            ulong ino = at switch { 0 => folder.Id, 1 => folder.Parent, _ => node!.Id };
            bool isFolder = node?.Attributes.IsFolder ?? true;
            int n = Add(into[used..], name, ino, at + 1, isFolder, plus ? (node is null ? default : Entry(node)) : null);
            if (n == 0) break;
            used += n;
        }
        return used;
    }

    /// <summary>One READDIR(PLUS) record into span; 0 when it does not fit. "." and ".." go with node id 0, which the kernel skips.</summary>
    private static int Add(Span<byte> span, string name, ulong ino, ulong next, bool isFolder, EntryOut? entry)
    {
        int nameLength = Encoding.UTF8.GetByteCount(name);
        int head = (entry is null ? 0 : Marshal.SizeOf<EntryOut>()) + Marshal.SizeOf<Dirent>();
        int size = (head + nameLength + 7) & ~7;
        if (size > span.Length) return 0;
        span[..size].Clear();
        if (entry is { } e) MemoryMarshal.Write(span, in e);
        var dirent = new Dirent { Ino = ino, Off = next, NameLen = (uint)nameLength, Type = isFolder ? 4u /* DT_DIR */ : 8u /* DT_REG */ };
        MemoryMarshal.Write(span[(head - Marshal.SizeOf<Dirent>())..], in dirent);
        Encoding.UTF8.GetBytes(name, span[head..]);
        return size;
    }

    private int StatFs(byte[] reply)
    {
        var (blockSize, blocks, free) = _tree.Space;
        var answer = new StatFsOut
        {
            Bsize = (uint)blockSize, Frsize = (uint)blockSize, Blocks = (ulong)blocks, Bfree = (ulong)free, Bavail = (ulong)free,
            NameLen = 255,
        };
        MemoryMarshal.Write(Payload(reply), in answer);
        return Marshal.SizeOf<StatFsOut>();
    }

    private static int ListXattr(ReadOnlySpan<byte> body, byte[] reply)
    {
        var request = MemoryMarshal.Read<GetXattrIn>(body);
        if (request.Size != 0) return 0;
        var answer = new GetXattrOut { Size = 0 };
        MemoryMarshal.Write(Payload(reply), in answer);
        return Marshal.SizeOf<GetXattrOut>();
    }

    private static EntryOut Entry(Node node) => new()
    {
        NodeId = node.Id,
        EntryValid = ValidSeconds,
        AttrValid = ValidSeconds,
        Attr = AttrOf(node),
    };

    private static Attr AttrOf(Node node)
    {
        var a = node.Attributes;
        static (ulong Seconds, uint Nanos) Unix(DateTime t)
        {
            long ticks = Math.Max(0, (t.ToUniversalTime() - DateTime.UnixEpoch).Ticks);
            return ((ulong)(ticks / TimeSpan.TicksPerSecond), (uint)(ticks % TimeSpan.TicksPerSecond * 100));
        }
        var (ms, mn) = Unix(a.Modified);
        var (at, an) = Unix(a.Accessed);
        var (cs, cn) = Unix(a.Changed);
        return new Attr
        {
            Ino = node.Id,
            Size = a.IsFolder ? 0 : (ulong)a.Size,
            Blocks = a.IsFolder ? 0 : ((ulong)a.Size + 511) / 512,
            Mtime = ms, MtimeNsec = mn, Atime = at, AtimeNsec = an, Ctime = cs, CtimeNsec = cn,
            Mode = (a.IsFolder ? 0x4000u /* S_IFDIR */ : 0x8000u /* S_IFREG */) | (a.Permissions & 0xfff),
            Nlink = a.IsFolder ? 2u : 1u,
            BlkSize = 4096,
        };
    }
}
