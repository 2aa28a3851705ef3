using System.Runtime.InteropServices;

namespace RestoreTools.Engine.Native;

/// <summary>
/// The kernel's FUSE protocol (include/uapi/linux/fuse.h), the part a read-only server speaks:
/// opcodes, INIT flags and the structs as they lie in /dev/fuse's messages, little-endian.
/// </summary>
internal static class FuseProtocol
{
    public const uint Major = 7;
    /// <summary>7.31 has everything used here (max_pages, no_open, no_opendir); a newer kernel takes it.</summary>
    public const uint Minor = 31;
    public const ulong RootId = 1;

    public enum Op : uint
    {
        Lookup = 1, Forget = 2, GetAttr = 3, ReadLink = 5, Open = 14, Read = 15, StatFs = 17, Release = 18,
        GetXattr = 22, ListXattr = 23, Flush = 25, Init = 26, OpenDir = 27, ReadDir = 28, ReleaseDir = 29,
        Access = 34, Interrupt = 36, Destroy = 38, BatchForget = 42, ReadDirPlus = 44,
    }

    [Flags]
    public enum InitFlags : uint
    {
        AsyncRead = 1 << 0,
        DoReaddirplus = 1 << 13,
        // OPEN and OPENDIR answered ENOSYS once: the kernel stops sending them (and RELEASE), and keeps
        // the page cache and the folder cache across opens, as for a read-only filesystem it should.
        NoOpenSupport = 1 << 17,
        ParallelDirops = 1 << 18,
        MaxPages = 1 << 22,
        NoOpendirSupport = 1 << 24,
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct InHeader
    {
        public uint Len;
        public Op Opcode;
        public ulong Unique;
        public ulong NodeId;
        public uint Uid, Gid, Pid;
        public ushort TotalExtLen, Padding;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct OutHeader
    {
        public uint Len;
        public int Error;
        public ulong Unique;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct InitIn
    {
        public uint Major, Minor, MaxReadahead;
        public InitFlags Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct InitOut
    {
        public uint Major, Minor, MaxReadahead;
        public InitFlags Flags;
        public ushort MaxBackground, CongestionThreshold;
        public uint MaxWrite, TimeGran;
        public ushort MaxPages, MapAlignment;
        public uint Flags2;
        public fixed uint Unused[7];
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Attr
    {
        public ulong Ino, Size, Blocks, Atime, Mtime, Ctime;
        public uint AtimeNsec, MtimeNsec, CtimeNsec;
        public uint Mode, Nlink, Uid, Gid, Rdev, BlkSize, Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct EntryOut
    {
        public ulong NodeId, Generation, EntryValid, AttrValid;
        public uint EntryValidNsec, AttrValidNsec;
        public Attr Attr;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct AttrOut
    {
        public ulong AttrValid;
        public uint AttrValidNsec, Dummy;
        public Attr Attr;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct ReadIn
    {
        public ulong Fh, Offset;
        public uint Size, ReadFlags;
        public ulong LockOwner;
        public uint Flags, Padding;
    }

    /// <summary>A folder entry of READDIR; READDIRPLUS puts an EntryOut before each. The name follows, padded to 8.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Dirent
    {
        public ulong Ino, Off;
        public uint NameLen, Type;
    }

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct StatFsOut
    {
        public ulong Blocks, Bfree, Bavail, Files, Ffree;
        public uint Bsize, NameLen, Frsize, Padding;
        public fixed uint Spare[6];
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct GetXattrIn
    {
        public uint Size, Padding;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct GetXattrOut
    {
        public uint Size, Padding;
    }
}
