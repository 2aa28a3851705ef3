using Tmds.Linux;

namespace RestoreTools.Engine.Native;

/// <summary>mknod for block devices: inside a restore VM there is no udev to make them.</summary>
public static unsafe class DeviceNodes
{
    public static void CreateBlockNode(string path, uint major, uint minor)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        fixed (byte* p = Sys.Z(path))
        {
            if (Libc.mknod(p, (uint)(LibC.S_IFBLK | 0x180) /* 0600 */, Sys.MakeDev(major, minor)) == 0) return;
            int e = Sys.Errno;
            if (e != Sys.EEXIST) throw new NativeException("mknod", e, path);
        }
    }

    /// <summary>A character node (0600): the device-mapper control node, which devtmpfs makes only after dm-mod is loaded.</summary>
    public static void CreateCharNode(string path, uint major, uint minor)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        fixed (byte* p = Sys.Z(path))
        {
            if (Libc.mknod(p, (uint)(LibC.S_IFCHR | 0x180), Sys.MakeDev(major, minor)) == 0) return;
            int e = Sys.Errno;
            if (e != Sys.EEXIST) throw new NativeException("mknod", e, path);
        }
    }

    /// <summary>The major:minor of a block node, or null when path is not a block device.</summary>
    public static (uint Major, uint Minor)? GetDeviceNumber(string path)
    {
        stat st;
        fixed (byte* p = Sys.Z(path))
            if (Libc.stat(p, &st) != 0) return null;
        if ((st.st_mode & LibC.S_IFMT) != LibC.S_IFBLK) return null;
        ulong dev = st.st_rdev;
        uint major = (uint)(((dev >> 32) & 0xfffff000) | ((dev >> 8) & 0xfff));
        uint minor = (uint)(((dev >> 12) & 0xffffff00) | (dev & 0xff));
        return (major, minor);
    }
}
