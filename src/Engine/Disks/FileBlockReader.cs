using Microsoft.Win32.SafeHandles;

namespace RestoreTools.Engine.Disks;

/// <summary>Reads a block device or an image file, opened read-only.</summary>
public sealed class FileBlockReader : IBlockReader, IDisposable
{
    private readonly SafeFileHandle _handle;

    public FileBlockReader(string path, int sectorSize = 512, long? length = null)
    {
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        SectorSize = sectorSize;
        Length = length ?? DetectLength(path, _handle);
    }

    public long Length { get; }
    public int SectorSize { get; }

    public int ReadAt(long offset, Span<byte> buffer)
    {
        if (offset >= Length) return 0;
        if (offset + buffer.Length > Length) buffer = buffer[..(int)(Length - offset)];
        int total = 0;
        while (total < buffer.Length)
        {
            int n = RandomAccess.Read(_handle, buffer[total..], offset + total);
            if (n <= 0) break;
            total += n;
        }
        return total;
    }

    private static long DetectLength(string path, SafeFileHandle handle)
    {
        // RandomAccess.GetLength is 0 for block devices; sysfs or BLKGETSIZE64 give their size.
        long len = RandomAccess.GetLength(handle);
        if (len > 0 || Native.DeviceNodes.GetDeviceNumber(path) is null) return len;
        return Native.BlockDeviceIoctl.GetSize(handle);
    }

    public void Dispose() => _handle.Dispose();
}

/// <summary>A window [offset, offset+length) of another reader: a partition inside a disk.</summary>
public sealed class SliceBlockReader(IBlockReader inner, long offset, long length) : IBlockReader
{
    public long Length { get; } = length;
    public int SectorSize => inner.SectorSize;

    public int ReadAt(long offset1, Span<byte> buffer)
    {
        if (offset1 >= Length) return 0;
        if (offset1 + buffer.Length > Length) buffer = buffer[..(int)(Length - offset1)];
        return inner.ReadAt(offset + offset1, buffer);
    }
}
