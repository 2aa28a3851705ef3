using System.Buffers.Binary;

namespace RestoreTools.Tests.Unit.Fuzz;

/// <summary>
/// Random mutations of a <see cref="FuzzDisk"/>: bit flips, bytes and little/big-endian integers set
/// to boundary values, random runs, truncation, extension, copies within the disk and splices from
/// another seed; half the time the checksums are then made right again so the parsers get past them.
/// </summary>
public sealed class FuzzMutator(Random rng, IReadOnlyList<FuzzDisk> corpus)
{
    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE, 0x10, 0x20, 0x40];

    private static readonly ulong[] InterestingInts =
    [
        0, 1, 2, 3, 4, 0x7F, 0x80, 0xFF, 0x100, 127, 128, 255, 256, 511, 512, 1024, 2048, 4095, 4096, 4097, 8192, 65535, 65536,
        0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x100000000, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000,
        0xFFFFFFFFFFFFFFFF, 1UL << 40, (1UL << 40) - 1, 1UL << 31, 1UL << 55, 0xFFFFFFFFFFFFFFFE,
    ];

    public FuzzDisk Mutate(FuzzDisk seed)
    {
        var d = seed.Clone();
        int rounds = 1 + rng.Next(rng.Next(2) == 0 ? 2 : 8);
        for (int r = 0; r < rounds; r++) MutateOnce(d);
        if (rng.Next(2) == 0) ChecksumFixer.Fix(d);
        return d;
    }

    private void MutateOnce(FuzzDisk d)
    {
        if (d.Segments.Count == 0) d.Segments.Add((0, new byte[512]));
        switch (rng.Next(24))
        {
            case 0 or 1 or 2 or 3:
                FlipBit(d); break;
            case 4 or 5 or 6:
                SetByte(d); break;
            case 7 or 8 or 9 or 10:
                SetInt(d); break;
            case 11:
                RandomRun(d); break;
            case 12:
                Truncate(d); break;
            case 13:
                Extend(d); break;
            case 14:
                CopyWithin(d); break;
            case 15:
                Splice(d); break;
            case 16:
                d.Sector4096 = !d.Sector4096; break;
            case 17:
                ShiftSegment(d); break;
            case 18:
                CutSegment(d); break;
            default:
                SetField(d); break;
        }
    }

    /// <summary>A segment chosen by size, and a place in it; most picks fall in the first 4 KiB, where headers live.</summary>
    private (byte[] Data, int At) Pick(FuzzDisk d)
    {
        long total = d.Segments.Sum(s => (long)s.Data.Length);
        byte[] data = d.Segments[0].Data;
        if (total > 0)
        {
            long x = rng.NextInt64(total);
            foreach (var (_, seg) in d.Segments)
            {
                if (x < seg.Length) { data = seg; break; }
                x -= seg.Length;
            }
        }
        if (data.Length == 0) return (data, 0);
        int limit = rng.Next(3) == 0 ? data.Length : Math.Min(data.Length, 4096);
        return (data, rng.Next(limit));
    }

    private void FlipBit(FuzzDisk d)
    {
        var (data, at) = Pick(d);
        if (data.Length > 0) data[at] ^= (byte)(1 << rng.Next(8));
    }

    private void SetByte(FuzzDisk d)
    {
        var (data, at) = Pick(d);
        if (data.Length > 0) data[at] = rng.Next(4) == 0 ? (byte)rng.Next(256) : InterestingBytes[rng.Next(InterestingBytes.Length)];
    }

    private void SetInt(FuzzDisk d)
    {
        var (data, at) = Pick(d);
        int width = new[] { 2, 4, 4, 8, 8 }[rng.Next(5)];
        if (data.Length < width) return;
        at = Math.Min(at, data.Length - width) & ~(rng.Next(2) == 0 ? width - 1 : 0);   // often aligned, as header fields are
        ulong v = InterestingInts[rng.Next(InterestingInts.Length)];
        if (rng.Next(4) == 0) v += (ulong)(rng.Next(5) - 2);
        if (rng.Next(6) == 0) v = (ulong)d.Length / (ulong)(rng.Next(3) == 0 ? 1 : d.Sector4096 ? 4096 : 512) + (ulong)(rng.Next(5) - 2);
        Span<byte> b = data.AsSpan(at, width);
        bool be = rng.Next(5) == 0;
        switch (width)
        {
            case 2: if (be) BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)v); else BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)v); break;
            case 4: if (be) BinaryPrimitives.WriteUInt32BigEndian(b, (uint)v); else BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)v); break;
            default: if (be) BinaryPrimitives.WriteUInt64BigEndian(b, v); else BinaryPrimitives.WriteUInt64LittleEndian(b, v); break;
        }
    }

    /// <summary>
    /// A known header field (see <see cref="HeaderFields"/>) set to a boundary value, relative to the
    /// disk or to where one of the segments starts (a partition's superblock); laid over as a new segment.
    /// </summary>
    private void SetField(FuzzDisk d)
    {
        var (offset, width, bigEndian) = HeaderFields.All[rng.Next(HeaderFields.All.Length)];
        long length = d.Length;
        long @base = 0;
        if (rng.Next(3) == 0 && d.Segments.Count > 0 && FuzzDisk.Place(d.Segments[rng.Next(d.Segments.Count)].Offset, length) is { } at)
            @base = at & ~511L;
        ulong v = rng.Next(4) == 0 ? (ulong)rng.NextInt64() : InterestingInts[rng.Next(InterestingInts.Length)];
        var b = new byte[width];
        for (int i = 0; i < width; i++)
            b[bigEndian ? width - 1 - i : i] = (byte)(v >> (8 * i));
        if (d.Segments.Count < 200) d.Segments.Add((@base + offset, b));
    }

    private void RandomRun(FuzzDisk d)
    {
        var (data, at) = Pick(d);
        int n = Math.Min(data.Length - at, 1 + rng.Next(64));
        if (n > 0) rng.NextBytes(data.AsSpan(at, n));
    }

    /// <summary>A shorter disk: the image was cut, so end-relative data moves and fixed data falls off.</summary>
    private void Truncate(FuzzDisk d)
    {
        long len = d.Length;
        if (len <= 1) return;
        d.DeclaredLength = rng.Next(3) switch
        {
            0 => rng.NextInt64(1, len),
            1 => Math.Max(1, len - (rng.Next(2) == 0 ? 512 : 4096) * (1 + rng.Next(40))),
            _ => Math.Max(1, len / 2),
        };
    }

    /// <summary>A longer disk, up to 1 TiB: offsets that point far away now read zeros instead of failing.</summary>
    private void Extend(FuzzDisk d)
    {
        long len = Math.Max(d.Length, 512);
        d.DeclaredLength = rng.Next(4) switch
        {
            0 => FuzzDisk.MaxLength,
            1 => Math.Min(FuzzDisk.MaxLength, len * 2),
            2 => Math.Min(FuzzDisk.MaxLength, len + 512 * (1 + rng.Next(64))),
            _ => Math.Min(FuzzDisk.MaxLength, 64L * 1024 * 1024 + rng.Next(1 << 20)),
        };
    }

    private void CopyWithin(FuzzDisk d)
    {
        var (src, from) = Pick(d);
        var (dst, to) = Pick(d);
        int n = Math.Min(Math.Min(src.Length - from, dst.Length - to), 1 + rng.Next(rng.Next(2) == 0 ? 64 : 4096));
        if (n > 0) src.AsSpan(from, n).CopyTo(dst.AsSpan(to, n));
    }

    /// <summary>A piece of another seed laid over this one, or one of its segments added whole.</summary>
    private void Splice(FuzzDisk d)
    {
        if (corpus.Count == 0) return;
        var other = corpus[rng.Next(corpus.Count)];
        if (other.Segments.Count == 0) return;
        var (off, data) = other.Segments[rng.Next(other.Segments.Count)];
        if (rng.Next(2) == 0 && d.Segments.Count < 64)
        {
            d.Segments.Add((off, (byte[])data.Clone()));
            return;
        }
        var (dst, to) = Pick(d);
        int from = data.Length == 0 ? 0 : rng.Next(data.Length);
        int n = Math.Min(Math.Min(data.Length - from, dst.Length - to), 1 + rng.Next(2048));
        if (n > 0) data.AsSpan(from, n).CopyTo(dst.AsSpan(to, n));
    }

    /// <summary>A segment moved by a sector or a power of two: structures found where another one was expected.</summary>
    private void ShiftSegment(FuzzDisk d)
    {
        int i = rng.Next(d.Segments.Count);
        var (off, data) = d.Segments[i];
        long delta = rng.Next(3) switch { 0 => 512, 1 => 4096, _ => 1L << rng.Next(9, 30) };
        d.Segments[i] = (rng.Next(2) == 0 ? off + delta : off - delta, data);
    }

    private void CutSegment(FuzzDisk d)
    {
        int i = rng.Next(d.Segments.Count);
        var (off, data) = d.Segments[i];
        if (data.Length == 0) { d.Segments.RemoveAt(i); return; }
        d.Segments[i] = (off, data[..rng.Next(data.Length)]);
    }
}
