using RestoreTools.Engine.Disks;
using static RestoreTools.Engine.FileSystems.ProbeBytes;

namespace RestoreTools.Engine.FileSystems.Fat;

/// <summary>
/// The file allocation table in use, read in cached pages (at most 4 MiB by default, so a huge FAT costs bounded
/// memory), and the chain walks over it. Thread-safe.
/// </summary>
internal sealed class FatTable
{

    private readonly IBlockReader _device;
    private readonly FatBootSector _boot;
    private readonly long _usedBytes;                    // the FAT bytes that hold entries 0..MaxCluster
    private readonly Dictionary<long, (byte[] Page, long Used)> _pages = [];
    private long _clock;
    private long _freeClusters = -1;
    private readonly int _pageSize;                       // a multiple of 4: FAT16/32 entries never straddle pages
    private readonly int _maxPages;

    public FatTable(IBlockReader device, FatBootSector boot, int pageSize, int maxPages)
    {
        if (pageSize < 4 || pageSize % 4 != 0) throw new ArgumentOutOfRangeException(nameof(pageSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPages, 1);
        _pageSize = pageSize;
        _maxPages = maxPages;
        _device = device;
        _boot = boot;
        _usedBytes = Math.Min(boot.FatBytes, ((long)boot.MaxCluster + 1) * boot.Bits / 8 + 2);
    }

    private uint EndOfChain => _boot.Bits switch { 12 => 0xFF8, 16 => 0xFFF8, _ => 0x0FFFFFF8 };
    private uint BadCluster => EndOfChain - 1;

    /// <summary>A page of the FAT; the array is never written after it is returned.</summary>
    private byte[] Page(long index)
    {
        lock (_pages)
        {
            if (_pages.TryGetValue(index, out var hit))
            {
                _pages[index] = (hit.Page, ++_clock);
                return hit.Page;
            }
            if (_pages.Count >= _maxPages)
            {
                long oldest = -1, oldestUse = long.MaxValue;
                foreach (var (k, v) in _pages)
                    if (v.Used < oldestUse) (oldest, oldestUse) = (k, v.Used);
                _pages.Remove(oldest);
            }
            long start = index * _pageSize;
            int length = (int)Math.Min(_pageSize, _usedBytes - start);
            byte[] page = new byte[length];
            ReadExactly(_boot.FatOffset + start, page, "the FAT");
            _pages[index] = (page, ++_clock);
            return page;
        }
    }

    private byte FatByte(long offset, ref byte[]? page, ref long pageIndex)
    {
        long idx = offset / _pageSize;
        if (page is null || idx != pageIndex) { page = Page(idx); pageIndex = idx; }
        return page[(int)(offset - idx * _pageSize)];
    }

    /// <summary>The FAT entry of cluster c; page/pageIndex carry the last page across calls of one walk.</summary>
    private uint Entry(uint c, ref byte[]? page, ref long pageIndex)
    {
        switch (_boot.Bits)
        {
            case 12:
            {
                long off = c + (c >> 1);
                int v = FatByte(off, ref page, ref pageIndex) | FatByte(off + 1, ref page, ref pageIndex) << 8;
                return (uint)((c & 1) != 0 ? v >> 4 : v & 0xFFF);
            }
            case 16:
            {
                long off = (long)c * 2;
                FatByte(off, ref page, ref pageIndex);
                return Le16(page, (int)(off - pageIndex * _pageSize));
            }
            default:
            {
                long off = (long)c * 4;
                FatByte(off, ref page, ref pageIndex);
                return Le32(page, (int)(off - pageIndex * _pageSize)) & 0x0FFFFFFF;
            }
        }
    }

    /// <summary>
    /// Walks the chain from first into runs. wanted ≥ 0: exactly that many clusters (a file of known size;
    /// the entry of the last one is not looked at). wanted &lt; 0: up to the end mark, failing past maxClusters
    /// (a folder). A loop, or a bad first cluster, throws InvalidDataException naming what. A chain that ends
    /// early or runs into a free or bad cluster or out of the data area throws too for a folder; for a file it
    /// gives the runs up to there with Broken saying why, so the bytes before the break still read, as in Linux.
    /// </summary>
    public ClusterRuns Walk(uint first, long wanted, long maxClusters, string what)
    {
        uint max = _boot.MaxCluster;
        if (first < 2 || first > max)
            throw new InvalidDataException($"{what}: its first cluster {first} is outside the data area (2..{max}).");
        if (wanted > _boot.TotalClusters)
            throw new InvalidDataException($"{what}: its size needs {wanted} clusters, more than the volume's {_boot.TotalClusters}.");
        var starts = new List<uint>();
        var firstIndex = new List<uint>();
        byte[]? page = null;
        long pageIndex = -1;
        uint cur = first;
        long count = 0;
        string? broken = null;
        starts.Add(cur);
        firstIndex.Add(0);
        while (true)
        {
            count++;
            if (wanted >= 0 && count == wanted) break;
            if (wanted < 0 && count > maxClusters)
                throw new InvalidDataException($"{what}: its cluster chain is longer than {maxClusters} clusters (a loop, or past the 65536-entry folder limit).");
            // Any chain longer than the volume's cluster count has repeated a cluster.
            if (count > _boot.TotalClusters)
                throw new InvalidDataException($"{what}: its cluster chain is longer than the volume's {_boot.TotalClusters} clusters (it loops).");
            uint next = Entry(cur, ref page, ref pageIndex);
            if (next >= EndOfChain)
            {
                if (wanted >= 0) broken = $"{what}: its cluster chain ends after {count} clusters, short of the {wanted} its size needs.";
                break;
            }
            broken = next == 0 ? $"{what}: its cluster chain runs into a free cluster after cluster {cur}."
                : next == BadCluster ? $"{what}: its cluster chain runs into a bad cluster after cluster {cur}."
                : next < 2 || next > max ? $"{what}: its cluster chain points at cluster {next}, outside the data area (2..{max})."
                : null;
            if (broken is not null) break;
            if (next != cur + 1)
            {
                starts.Add(next);
                firstIndex.Add((uint)count);
            }
            cur = next;
        }
        var runs = new ClusterRuns(starts.ToArray(), firstIndex.ToArray(), count, broken);
        if (runs.Overlaps()) throw new InvalidDataException($"{what}: its cluster chain loops (a cluster is used twice).");
        if (broken is not null && wanted < 0) throw new InvalidDataException(broken);
        return runs;
    }

    /// <summary>Free entries among clusters 2..MaxCluster, counted once by streaming the FAT (as Linux's statfs does).</summary>
    public long FreeClusters
    {
        get
        {
            long known = Interlocked.Read(ref _freeClusters);
            if (known >= 0) return known;
            long free = CountFree();
            Interlocked.Exchange(ref _freeClusters, free);
            return free;
        }
    }

    private long CountFree()
    {
        // 12 divides the chunk: a chunk holds whole entries of every width (two FAT12 entries per 3 bytes).
        const int Chunk = 12 * 65536;
        byte[] buf = new byte[Chunk];
        long free = 0;
        long lastEntry = _boot.MaxCluster;
        for (long start = 0; start < _usedBytes; start += Chunk)
        {
            int len = (int)Math.Min(Chunk, _usedBytes - start);
            // A FAT cut short by the end of the image: what is missing counts as used, not as an error.
            int got = 0;
            while (got < len)
            {
                int n = _device.ReadAt(_boot.FatOffset + start + got, buf.AsSpan(got, len - got));
                if (n <= 0) break;
                got += n;
            }
            bool cut = got < len;
            len = got;
            long firstEntry = start * 8 / _boot.Bits;
            long entries = (long)len * 8 / _boot.Bits;
            for (long i = 0; i < entries; i++)
            {
                long c = firstEntry + i;
                if (c < 2) continue;
                if (c > lastEntry) break;
                uint v = _boot.Bits switch
                {
                    12 => (uint)(((i & 1) != 0
                        ? buf[(int)(i * 3 / 2)] >> 4 | buf[(int)(i * 3 / 2) + 1] << 4
                        : buf[(int)(i * 3 / 2)] | (buf[(int)(i * 3 / 2) + 1] & 0x0F) << 8)),
                    16 => Le16(buf, (int)(i * 2)),
                    _ => Le32(buf, (int)(i * 4)) & 0x0FFFFFFF,
                };
                if (v == 0) free++;
            }
            if (cut) break;
        }
        return free;
    }

    private void ReadExactly(long offset, Span<byte> buffer, string what)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int n = _device.ReadAt(offset + done, buffer[done..]);
            if (n <= 0) throw new InvalidDataException($"The image ends inside {what} (at byte {offset + done}).");
            done += n;
        }
    }
}
