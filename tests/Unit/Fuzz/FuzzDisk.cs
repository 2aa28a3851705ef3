using System.Buffers.Binary;
using RestoreTools.Engine.Disks;

namespace RestoreTools.Tests.Unit.Fuzz;

/// <summary>
/// A fuzz input: a sparse disk as a flat byte string, so that afl++ and the random mutator share one
/// format and a saved input replays exactly. Layout: flags (1 byte, bit 0 = 4096-byte sectors),
/// declared length (u64 LE, 0 = end of the last segment, capped at 1 TiB), then segments of
/// [u64 offset LE][u32 length LE][bytes] until the input ends. A negative offset counts from the
/// end of the disk (a backup GPT stays at the end when the length changes). Later segments win.
/// Anything malformed is clipped, never refused: every byte string is a disk.
/// </summary>
public sealed class FuzzDisk
{
    public const long MaxLength = 1L << 40;
    private const int HeaderSize = 9, SegmentHeader = 12, MaxSegments = 512;

    public bool Sector4096 { get; set; }

    /// <summary>Declared size; 0 means "as far as the data goes".</summary>
    public long DeclaredLength { get; set; }

    public List<(long Offset, byte[] Data)> Segments { get; } = [];

    public static FuzzDisk Decode(ReadOnlySpan<byte> input)
    {
        var d = new FuzzDisk();
        if (input.Length == 0) return d;
        d.Sector4096 = (input[0] & 1) != 0;
        if (input.Length < HeaderSize) return d;
        d.DeclaredLength = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(input[1..]), (ulong)MaxLength);
        int pos = HeaderSize;
        while (pos + SegmentHeader <= input.Length && d.Segments.Count < MaxSegments)
        {
            long off = BinaryPrimitives.ReadInt64LittleEndian(input[pos..]);
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(input[(pos + 8)..]);
            pos += SegmentHeader;
            int n = (int)Math.Min(len, (uint)(input.Length - pos));
            d.Segments.Add((off, input.Slice(pos, n).ToArray()));
            pos += n;
        }
        return d;
    }

    public byte[] Encode()
    {
        var ms = new MemoryStream();
        Span<byte> h = stackalloc byte[SegmentHeader];
        ms.WriteByte((byte)(Sector4096 ? 1 : 0));
        BinaryPrimitives.WriteUInt64LittleEndian(h, (ulong)DeclaredLength);
        ms.Write(h[..8]);
        foreach (var (off, data) in Segments)
        {
            BinaryPrimitives.WriteInt64LittleEndian(h, off);
            BinaryPrimitives.WriteUInt32LittleEndian(h[8..], (uint)data.Length);
            ms.Write(h);
            ms.Write(data);
        }
        return ms.ToArray();
    }

    public FuzzDisk Clone()
    {
        var c = new FuzzDisk { Sector4096 = Sector4096, DeclaredLength = DeclaredLength };
        foreach (var (o, data) in Segments) c.Segments.Add((o, (byte[])data.Clone()));
        return c;
    }

    /// <summary>The disk length: the declared one, or the end of the furthest segment that has a fixed place.</summary>
    public long Length
    {
        get
        {
            if (DeclaredLength > 0) return DeclaredLength;
            long end = 0;
            foreach (var (off, data) in Segments)
                if (off >= 0 && off <= MaxLength) end = Math.Max(end, Math.Min(MaxLength, off + data.Length));
            return end;
        }
    }

    /// <summary>Where a segment lands on a disk of <paramref name="length"/> bytes; null when it does not land.</summary>
    public static long? Place(long offset, long length)
    {
        if (offset < 0)
        {
            if (offset == long.MinValue) return null;
            offset = length + offset;
        }
        return offset < 0 || offset >= length ? null : offset;
    }

    public IBlockReader Reader() => new FuzzDiskReader(this);

    /// <summary>Packs a real image: runs of non-zero 512-byte blocks, those near the end counted from the end.</summary>
    public static FuzzDisk Pack(byte[] image, bool sector4096, long tailBytes = 1 << 20)
    {
        var d = new FuzzDisk { Sector4096 = sector4096, DeclaredLength = image.Length };
        const int Block = 512;
        int i = 0;
        while (i < image.Length)
        {
            int n = Math.Min(Block, image.Length - i);
            if (!image.AsSpan(i, n).ContainsAnyExcept((byte)0)) { i += n; continue; }
            int start = i;
            bool inTail = image.Length - start <= tailBytes;
            while (i < image.Length)
            {
                n = Math.Min(Block, image.Length - i);
                if (!image.AsSpan(i, n).ContainsAnyExcept((byte)0)) break;
                if ((image.Length - i <= tailBytes) != inTail) break;      // a run never straddles head and tail
                i += n;
            }
            long off = inTail ? start - (long)image.Length : start;
            d.Segments.Add((off, image.AsSpan(start, i - start).ToArray()));
        }
        return d;
    }
}

/// <summary>Reads a <see cref="FuzzDisk"/>: zeros wherever no segment lies, later segments over earlier ones.</summary>
public sealed class FuzzDiskReader : IBlockReader
{
    private readonly (long Start, byte[] Data)[] _placed;

    public FuzzDiskReader(FuzzDisk disk)
    {
        Length = disk.Length;
        SectorSize = disk.Sector4096 ? 4096 : 512;
        var placed = new List<(long, byte[])>();
        foreach (var (off, data) in disk.Segments)
            if (FuzzDisk.Place(off, Length) is { } at) placed.Add((at, data));
        _placed = [.. placed];
    }

    public long Length { get; }
    public int SectorSize { get; }

    /// <summary>Bytes handed out so far: a parser that reads without end shows here before the clock says so.</summary>
    public long BytesRead { get; private set; }

    /// <summary>Reads so far: each one is a pread on a real disk.</summary>
    public long ReadCalls { get; private set; }

    public int ReadAt(long offset, Span<byte> buffer)
    {
        if (offset < 0) throw new ArgumentOutOfRangeException(nameof(offset), "negative read offset");
        if (offset >= Length) return 0;
        if (buffer.Length > Length - offset) buffer = buffer[..(int)(Length - offset)];
        buffer.Clear();
        long end = offset + buffer.Length;
        foreach (var (start, data) in _placed)
        {
            long s = Math.Max(start, offset), e = Math.Min(start + data.Length, end);
            if (s < e) data.AsSpan((int)(s - start), (int)(e - s)).CopyTo(buffer[(int)(s - offset)..]);
        }
        BytesRead += buffer.Length;
        ReadCalls++;
        return buffer.Length;
    }
}
