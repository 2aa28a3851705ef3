namespace RestoreTools.Engine.Disks;

/// <summary>Random read access to a block device, an image file or a slice of one.</summary>
public interface IBlockReader
{
    /// <summary>Size in bytes.</summary>
    long Length { get; }

    /// <summary>Logical sector size in bytes (512 or 4096); partition tables are addressed in it.</summary>
    int SectorSize { get; }

    /// <summary>Reads up to buffer.Length bytes at offset; returns fewer only at the end.</summary>
    int ReadAt(long offset, Span<byte> buffer);
}

public static class BlockReaderExtensions
{
    /// <summary>Reads exactly count bytes at offset, or null when the source is shorter.</summary>
    public static byte[]? TryRead(this IBlockReader reader, long offset, int count)
    {
        if (offset < 0 || count < 0 || offset + count > reader.Length) return null;
        var buf = new byte[count];
        int done = 0;
        while (done < count)
        {
            int n = reader.ReadAt(offset + done, buf.AsSpan(done));
            if (n <= 0) return null;
            done += n;
        }
        return buf;
    }
}
