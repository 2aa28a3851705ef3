using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace RestoreTools.Engine.Native;

/// <summary>Block-device ioctls from linux/fs.h and linux/blkpg.h.</summary>
public static unsafe class BlockDeviceIoctl
{
    private const int BLKROGET = 0x125E;                     // _IO(0x12,94): read-only flag
    private const int BLKSSZGET = 0x1268;                    // _IO(0x12,104): logical sector size
    private const int BLKPG = 0x1269;                        // _IO(0x12,105)
    private const int BLKGETSIZE64 = unchecked((int)0x80081272); // _IOR(0x12,114,size_t)
    private const int BLKPG_ADD_PARTITION = 1, BLKPG_DEL_PARTITION = 2;

    private struct BlkpgIoctlArg { public int Op; public int Flags; public int DataLen; public void* Data; }

    private struct BlkpgPartition
    {
        public long Start;   // bytes
        public long Length;  // bytes
        public int Pno;
        public fixed byte DevName[64];
        public fixed byte VolName[64];
    }

    /// <summary>
    /// Whether the kernel refuses writes to the device (a read-only loop, a read-only virtio disk,
    /// or a partition of one). Only a writable device (a restore VM's throw-away overlay) lets a
    /// read-only mount replay a journal.
    /// </summary>
    public static bool IsReadOnly(string device)
    {
        int fd = Sys.Open(device, LibC.O_RDONLY);
        try
        {
            int ro = 0;
            if (LibC.ioctl(fd, BLKROGET, &ro) < 0) throw new NativeException("ioctl(BLKROGET)", Sys.Errno, device);
            return ro != 0;
        }
        finally { Sys.Close(fd); }
    }

    public static long GetSize(SafeFileHandle handle)
    {
        long size = 0;
        if (LibC.ioctl((int)handle.DangerousGetHandle(), BLKGETSIZE64, &size) < 0)
            throw new NativeException("ioctl(BLKGETSIZE64)", Sys.Errno);
        return size;
    }

    public static int GetSectorSize(string device)
    {
        int fd = Sys.Open(device, LibC.O_RDONLY);
        try
        {
            int size = 0;
            if (Libc.ioctl(fd, (nuint)(uint)BLKSSZGET, &size) < 0) throw new NativeException("ioctl(BLKSSZGET)", Sys.Errno, device);
            return size;
        }
        finally { Sys.Close(fd); }
    }

    /// <summary>Adds partition pno to a whole-disk device, as partx -a does. Returns false when it already exists.</summary>
    public static bool AddPartition(string device, int pno, long startBytes, long lengthBytes)
    {
        int fd = Sys.Open(device, LibC.O_RDONLY);
        try
        {
            var part = new BlkpgPartition { Start = startBytes, Length = lengthBytes, Pno = pno };
            var arg = new BlkpgIoctlArg { Op = BLKPG_ADD_PARTITION, DataLen = sizeof(BlkpgPartition), Data = &part };
            if (Libc.ioctl(fd, (nuint)(uint)BLKPG, &arg) < 0)
            {
                int e = Sys.Errno;
                if (e == Sys.EBUSY) return false; // same number already present (e.g. a previous run)
                throw new NativeException($"ioctl(BLKPG_ADD_PARTITION {pno})", e, device);
            }
            return true;
        }
        finally { Sys.Close(fd); }
    }

    /// <summary>Removes partition pno; a partition still mounted gives EBUSY.</summary>
    public static void DeletePartition(string device, int pno)
    {
        int fd = Sys.Open(device, LibC.O_RDONLY);
        try
        {
            var part = new BlkpgPartition { Pno = pno };
            var arg = new BlkpgIoctlArg { Op = BLKPG_DEL_PARTITION, DataLen = sizeof(BlkpgPartition), Data = &part };
            if (Libc.ioctl(fd, (nuint)(uint)BLKPG, &arg) < 0 && Sys.Errno != Sys.ENXIO)
                throw new NativeException($"ioctl(BLKPG_DEL_PARTITION {pno})", Sys.Errno, device);
        }
        finally { Sys.Close(fd); }
    }
}
