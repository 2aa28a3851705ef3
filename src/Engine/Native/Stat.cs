using Tmds.Linux;

namespace RestoreTools.Engine.Native;

/// <summary>lstat and readlink: metadata of an entry itself, never of what a link points to.</summary>
public static unsafe class Stat
{
    public enum Kind { Missing, File, Directory, Symlink, BlockDevice, CharDevice, Fifo, Socket, Other }

    /// <param name="Blocks">512-byte blocks allocated (st_blocks); fewer than Size needs means the file has holes. -1 when unknown.</param>
    public readonly record struct Info(Kind Kind, int Mode, long Uid, long Gid, long Size, long MtimeSeconds, long MtimeNanoseconds, long Blocks = -1)
    {
        public DateTimeOffset Mtime => DateTimeOffset.FromUnixTimeSeconds(MtimeSeconds).AddTicks(MtimeNanoseconds / 100);

        /// <summary>Device and inode (st_dev, st_ino) and link count: a file with several names is one hard-linked file.</summary>
        public ulong Device { get; init; }
        public ulong Inode { get; init; }
        public long Links { get; init; } = 1;

        /// <summary>A regular file with fewer blocks than its size needs: worth asking SEEK_DATA where its data is.</summary>
        public bool MayBeSparse => Kind == Kind.File && Blocks >= 0 && Blocks * 512 < Size;
    }

    public static Kind Lstat(string path) => LstatInfo(path).Kind;

    /// <summary>lstat of a path of any length (see PathAt); a missing entry is Kind.Missing.</summary>
    public static Info LstatInfo(string path)
    {
        var (rc, st) = PathAt.Run(path, (dir, name) =>
        {
            stat s;
            return (Libc.fstatat(dir, name, &s, Sys.AT_SYMLINK_NOFOLLOW) == 0 ? 0 : Sys.Errno, s);
        });
        if (rc != 0)
        {
            if (rc == Sys.ENOENT || rc == Sys.ENOTDIR) return default;
            throw new NativeException("lstat", rc, path);
        }
        return From(in st);
    }

    internal static Info From(in stat st)
    {
        uint mode = (uint)st.st_mode;
        var kind = (mode & 0xF000) switch
        {
            0x8000 => Kind.File,
            0x4000 => Kind.Directory,
            0xA000 => Kind.Symlink,
            0x6000 => Kind.BlockDevice,
            0x2000 => Kind.CharDevice,
            0x1000 => Kind.Fifo,
            0xC000 => Kind.Socket,
            _ => Kind.Other,
        };
        return new Info(kind, (int)(mode & 0xFFF), (long)(uint)st.st_uid, (long)(uint)st.st_gid, (long)st.st_size,
            (long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec, (long)st.st_blocks)
        {
            Device = (ulong)st.st_dev,
            Inode = (ulong)st.st_ino,
            Links = (long)(ulong)st.st_nlink,
        };
    }

    /// <summary>A link's target of a path of any length. Targets are read up to PATH_MAX, as the kernel allows.</summary>
    public static string ReadLink(string path)
    {
        var buf = new byte[4096];
        long n = PathAt.Run(path, (dir, name) =>
        {
            fixed (byte* b = buf)
            {
                nint r = Libc.readlinkat(dir, name, b, (nuint)buf.Length);
                return r < 0 ? -(long)Sys.Errno : r;
            }
        });
        if (n < 0) throw new NativeException("readlink", (int)-n, path);
        return Paths.NameCodec.Decode(buf.AsSpan(0, (int)n));
    }
}
