using Tmds.Linux;

namespace RestoreTools.Engine.Native;

/// <summary>lstat and readlink, without following the last link.</summary>
public static unsafe class Stat
{
    public enum Kind { Missing, File, Directory, Symlink, Other }

    public static Kind Lstat(string path)
    {
        stat st;
        fixed (byte* p = Sys.Z(path))
        {
            if (LibC.lstat(p, &st) != 0)
            {
                int e = Sys.Errno;
                if (e == Sys.ENOENT || e == Sys.ENOTDIR) return Kind.Missing;
                throw new NativeException("lstat", e, path);
            }
        }
        uint fmt = (uint)(st.st_mode & LibC.S_IFMT);
        if (fmt == (uint)LibC.S_IFLNK) return Kind.Symlink;
        if (fmt == (uint)LibC.S_IFDIR) return Kind.Directory;
        if (fmt == (uint)LibC.S_IFREG) return Kind.File;
        return Kind.Other;
    }

    public static string ReadLink(string path)
    {
        var buf = new byte[4096];
        fixed (byte* p = Sys.Z(path))
        fixed (byte* b = buf)
        {
            long n = LibC.readlink(p, b, buf.Length);
            if (n < 0) throw new NativeException("readlink", Sys.Errno, path);
            return System.Text.Encoding.UTF8.GetString(buf, 0, (int)n);
        }
    }
}
