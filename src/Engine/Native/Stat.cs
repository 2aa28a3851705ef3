using Tmds.Linux;

namespace RestoreTools.Engine.Native;

/// <summary>lstat and readlink: metadata of an entry itself, never of what a link points to.</summary>
public static unsafe class Stat
{
    public enum Kind { Missing, File, Directory, Symlink, BlockDevice, CharDevice, Fifo, Socket, Other }

    public readonly record struct Info(Kind Kind, int Mode, long Uid, long Gid, long Size, long MtimeSeconds, long MtimeNanoseconds)
    {
        public DateTimeOffset Mtime => DateTimeOffset.FromUnixTimeSeconds(MtimeSeconds).AddTicks(MtimeNanoseconds / 100);
    }

    public static Kind Lstat(string path) => LstatInfo(path).Kind;

    public static Info LstatInfo(string path)
    {
        stat st;
        fixed (byte* p = Sys.Z(path))
        {
            if (Libc.lstat(p, &st) != 0)
            {
                int e = Sys.Errno;
                if (e == Sys.ENOENT || e == Sys.ENOTDIR) return default;
                throw new NativeException("lstat", e, path);
            }
        }
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
            (long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
    }

    public static string ReadLink(string path)
    {
        var buf = new byte[4096];
        fixed (byte* p = Sys.Z(path))
        fixed (byte* b = buf)
        {
            long n = Libc.readlink(p, b, (nuint)buf.Length);
            if (n < 0) throw new NativeException("readlink", Sys.Errno, path);
            return System.Text.Encoding.UTF8.GetString(buf, 0, (int)n);
        }
    }
}
