using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace RestoreTools.Engine.Native;

/// <summary>Attaches images to loop devices read-only (linux/loop.h).</summary>
public static unsafe class LoopDevices
{
    private const int LOOP_SET_FD = 0x4C00, LOOP_CLR_FD = 0x4C01, LOOP_SET_STATUS64 = 0x4C04,
        LOOP_GET_STATUS64 = 0x4C05, LOOP_CONFIGURE = 0x4C0A, LOOP_CTL_GET_FREE = 0x4C82;
    private const uint LO_FLAGS_READ_ONLY = 1, LO_FLAGS_AUTOCLEAR = 4;

    private struct LoopInfo64
    {
        public ulong Device, Inode, RDevice, Offset, SizeLimit;
        public uint Number, EncryptType, EncryptKeySize, Flags;
        public fixed byte FileName[64];
        public fixed byte CryptName[64];
        public fixed byte EncryptKey[32];
        public fixed ulong Init[2];
    }

    private struct LoopConfig
    {
        public uint Fd;
        public uint BlockSize;
        public LoopInfo64 Info;
        public fixed ulong Reserved[8];
    }

    /// <summary>
    /// Binds an open image (regular file or block device, opened read-only) to a free loop device,
    /// read-only and with LO_FLAGS_AUTOCLEAR, and returns it held open: the kernel then frees the
    /// device at its last close, which is at the latest when this process ends and nothing mounted
    /// from it is left. marker (63 bytes at most) goes into lo_file_name, for a later process to
    /// tell this binding from any other (see <see cref="ClearIfMarked"/>).
    /// </summary>
    /// <param name="offset">Where the device starts in the backing file (an LVM logical volume inside its PV).</param>
    /// <param name="sizeLimit">Its length from there; 0 for the rest of the backing file.</param>
    public static LoopDevice Attach(SafeFileHandle backing, string marker, string devDir = "/dev", long offset = 0, long sizeLimit = 0)
    {
        bool added = false;
        backing.DangerousAddRef(ref added);
        try
        {
            int fileFd = (int)backing.DangerousGetHandle();
            for (int attempt = 0; ; attempt++)
            {
                int number = GetFree(devDir);
                string device = Path.Combine(devDir, $"loop{number}");
                EnsureNode(device, number);
                int loopFd = Sys.Open(device, LibC.O_RDONLY);
                bool keep = false;
                try
                {
                    var cfg = new LoopConfig { Fd = (uint)fileFd };
                    cfg.Info.Flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
                    cfg.Info.Offset = (ulong)offset;
                    cfg.Info.SizeLimit = (ulong)sizeLimit;
                    SetName(ref cfg.Info, marker);
                    if (Libc.ioctl(loopFd, (nuint)(uint)LOOP_CONFIGURE, &cfg) == 0) { keep = true; return new LoopDevice(loopFd, device, number); }
                    int e = Sys.Errno;
                    // Raced with another attach, or a cleaner holding the free device for a moment.
                    if (e == Sys.EBUSY && attempt < 50) { Thread.Sleep(attempt < 5 ? 0 : 5); continue; }
                    if (e != Sys.EINVAL && e != Sys.ENOTTY) throw new NativeException("ioctl(LOOP_CONFIGURE)", e, device);

                    // Kernels before 5.8: the two-step setup.
                    if (Libc.ioctl(loopFd, (nuint)(uint)LOOP_SET_FD, fileFd) < 0)
                    {
                        e = Sys.Errno;
                        if (e == Sys.EBUSY && attempt < 50) { Thread.Sleep(attempt < 5 ? 0 : 5); continue; }
                        throw new NativeException("ioctl(LOOP_SET_FD)", e, device);
                    }
                    var info = cfg.Info;
                    if (LibC.ioctl(loopFd, LOOP_SET_STATUS64, &info) < 0)
                    {
                        e = Sys.Errno;
                        Libc.ioctl(loopFd, (nuint)(uint)LOOP_CLR_FD, 0);
                        throw new NativeException("ioctl(LOOP_SET_STATUS64)", e, device);
                    }
                    keep = true;
                    return new LoopDevice(loopFd, device, number);
                }
                finally { if (!keep) Sys.Close(loopFd); }
            }
        }
        finally { if (added) backing.DangerousRelease(); }
    }

    /// <summary>LOOP_CLR_FD through a held descriptor: the device is freed at its last close.</summary>
    internal static void Clear(int loopFd, string device)
    {
        if (Libc.ioctl(loopFd, (nuint)(uint)LOOP_CLR_FD, 0) == 0) return;
        int e = Sys.Errno;
        if (e != Sys.ENXIO) throw new NativeException("ioctl(LOOP_CLR_FD)", e, device);
    }

    public enum OrphanState { Cleared, Free, OtherBinding, Busy }

    /// <summary>
    /// For a loop device an earlier process of ours bound: when it is still bound with our marker,
    /// removePartitions runs and the binding is cleared; when it is free, only removePartitions runs
    /// (BLKPG partitions outlive LOOP_CLR_FD); bound to anything else, it is left alone. The device
    /// is held O_EXCL meanwhile, so no other attach can bind it between the look and the clean-up;
    /// a device in use (mounted) gives Busy.
    /// </summary>
    public static OrphanState ClearIfMarked(string device, string marker, Action removePartitions)
    {
        // A first look without O_EXCL: a device bound by someone else is left alone even when it is mounted.
        int fd = Sys.Open(device, LibC.O_RDONLY);
        try
        {
            if (Status(fd, device) is { } name && name != marker) return OrphanState.OtherBinding;
        }
        finally { Sys.Close(fd); }

        try { fd = Sys.Open(device, LibC.O_RDONLY | LibC.O_EXCL); }
        catch (NativeException ex) when (ex.Errno == Sys.EBUSY) { return OrphanState.Busy; }
        try
        {
            string? bound = Status(fd, device);
            if (bound is null)
            {
                removePartitions();
                return OrphanState.Free;
            }
            if (bound != marker) return OrphanState.OtherBinding;
            removePartitions();
            Clear(fd, device);
            return OrphanState.Cleared;
        }
        finally { Sys.Close(fd); }   // the last close: the kernel frees the device now
    }

    /// <summary>The lo_file_name of a bound device, or null when it is free.</summary>
    private static string? Status(int fd, string device)
    {
        LoopInfo64 info;
        if (Libc.ioctl(fd, (nuint)(uint)LOOP_GET_STATUS64, &info) == 0) return GetName(ref info);
        int e = Sys.Errno;
        if (e == Sys.ENXIO) return null;
        throw new NativeException("ioctl(LOOP_GET_STATUS64)", e, device);
    }

    private static int GetFree(string devDir)
    {
        string control = Path.Combine(devDir, "loop-control");
        if (!File.Exists(control)) control = "/dev/loop-control";
        int fd = Sys.Open(control, LibC.O_RDWR);
        try
        {
            int n = Libc.ioctl(fd, (nuint)(uint)LOOP_CTL_GET_FREE, 0);
            if (n < 0) throw new NativeException("ioctl(LOOP_CTL_GET_FREE)", Sys.Errno, control);
            return n;
        }
        finally { Sys.Close(fd); }
    }

    private static void EnsureNode(string device, int number)
    {
        if (File.Exists(device)) return;
        // Without devtmpfs/udev the node may lag behind: loop devices are block major 7.
        DeviceNodes.CreateBlockNode(device, 7, (uint)number);
    }

    private static void SetName(ref LoopInfo64 info, string file)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(file);
        int n = Math.Min(bytes.Length, 63);
        fixed (byte* dst = info.FileName)
            for (int i = 0; i < n; i++) dst[i] = bytes[i];
    }

    private static string GetName(ref LoopInfo64 info)
    {
        fixed (byte* src = info.FileName)
        {
            int n = 0;
            while (n < 64 && src[n] != 0) n++;
            return System.Text.Encoding.UTF8.GetString(src, n);
        }
    }
}
