using Tmds.Linux;

namespace RestoreTools.Engine.Native;

/// <summary>mount(2) and umount2(2).</summary>
public static unsafe class MountCalls
{
    /// <summary>The flags every restore mount carries: nothing on an image can be written, run or used as a device.</summary>
    public static ulong ReadOnlyFlags => (ulong)(LibC.MS_RDONLY | LibC.MS_NOEXEC | LibC.MS_NOSUID | LibC.MS_NODEV);

    /// <summary>Mounts; returns 0 on success or the errno.</summary>
    public static int TryMount(string source, string target, string fsType, ulong flags, string? options)
    {
        fixed (byte* s = Sys.Z(source))
        fixed (byte* t = Sys.Z(target))
        fixed (byte* f = Sys.Z(fsType))
        fixed (byte* o = options is null ? null : Sys.Z(options))
        {
            return Libc.mount(s, t, f, (nuint)flags, o) == 0 ? 0 : Sys.Errno;
        }
    }

    public static void Unmount(string target, bool lazy = false)
    {
        fixed (byte* t = Sys.Z(target))
        {
            for (int attempt = 0; ; attempt++)
            {
                if (Libc.umount2(t, lazy ? LibC.MNT_DETACH : 0) == 0) return;
                int e = Sys.Errno;
                if (e == Sys.EINVAL) return; // not a mount point (any more)
                if (e == Sys.EBUSY && attempt < 10) { Thread.Sleep(50); continue; }
                throw new NativeException("umount", e, target);
            }
        }
    }
}
