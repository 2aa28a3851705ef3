using Tmds.Linux;

namespace RestoreTools.Engine.Native;

/// <summary>Attaches files to loop devices read-only (linux/loop.h).</summary>
public static unsafe class LoopDevices
{
    private const int LOOP_SET_FD = 0x4C00, LOOP_CLR_FD = 0x4C01, LOOP_SET_STATUS64 = 0x4C04,
        LOOP_CONFIGURE = 0x4C0A, LOOP_CTL_GET_FREE = 0x4C82;
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
    /// Binds file to a free loop device, read-only, and returns the device path (/dev/loopN).
    /// offset/sizeLimit restrict it to a slice of the file.
    /// </summary>
    public static string Attach(string file, string devDir = "/dev", long offset = 0, long sizeLimit = 0)
    {
        // The backing file is opened O_RDONLY too: even a bug above cannot write the image.
        int fileFd = Sys.Open(file, LibC.O_RDONLY);
        try
        {
            for (int attempt = 0; ; attempt++)
            {
                int number = GetFree(devDir);
                string device = Path.Combine(devDir, $"loop{number}");
                EnsureNode(device, number);
                int loopFd = Sys.Open(device, LibC.O_RDONLY);
                try
                {
                    var cfg = new LoopConfig { Fd = (uint)fileFd };
                    cfg.Info.Flags = LO_FLAGS_READ_ONLY;
                    cfg.Info.Offset = (ulong)offset;
                    cfg.Info.SizeLimit = (ulong)sizeLimit;
                    SetName(ref cfg.Info, file);
                    if (Libc.ioctl(loopFd, (nuint)(uint)LOOP_CONFIGURE, &cfg) == 0) return device;
                    int e = Sys.Errno;
                    if (e == Sys.EBUSY && attempt < 20) continue; // raced with another attach
                    if (e != Sys.EINVAL && e != Sys.ENOTTY) throw new NativeException("ioctl(LOOP_CONFIGURE)", e, device);

                    // Kernels before 5.8: the two-step setup.
                    if (Libc.ioctl(loopFd, (nuint)(uint)LOOP_SET_FD, fileFd) < 0)
                    {
                        e = Sys.Errno;
                        if (e == Sys.EBUSY && attempt < 20) continue;
                        throw new NativeException("ioctl(LOOP_SET_FD)", e, device);
                    }
                    var info = cfg.Info;
                    if (LibC.ioctl(loopFd, LOOP_SET_STATUS64, &info) < 0)
                    {
                        e = Sys.Errno;
                        Libc.ioctl(loopFd, (nuint)(uint)LOOP_CLR_FD, 0);
                        throw new NativeException("ioctl(LOOP_SET_STATUS64)", e, device);
                    }
                    return device;
                }
                finally { Sys.Close(loopFd); }
            }
        }
        finally { Sys.Close(fileFd); }
    }

    /// <summary>Releases the loop device; ENXIO (already free) is not an error.</summary>
    public static void Detach(string device)
    {
        int fd = Sys.Open(device, LibC.O_RDONLY);
        try
        {
            for (int attempt = 0; ; attempt++)
            {
                if (Libc.ioctl(fd, (nuint)(uint)LOOP_CLR_FD, 0) == 0) return;
                int e = Sys.Errno;
                if (e == Sys.ENXIO) return;
                // Briefly busy right after an unmount while the kernel drops its reference.
                if (e == Sys.EBUSY && attempt < 50) { Thread.Sleep(20); continue; }
                throw new NativeException("ioctl(LOOP_CLR_FD)", e, device);
            }
        }
        finally { Sys.Close(fd); }
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

    internal static uint AutoClearFlag => LO_FLAGS_AUTOCLEAR;
}
