using System.Collections.Concurrent;
using RestoreTools.Engine.Disks;

namespace RestoreTools.Engine.FileSystems.Fat;

/// <summary>
/// A FAT12/16/32 volume read through an IBlockReader, read-only, in user space: folders are read whole,
/// once per call, and files through their cluster runs with few large reads. Everything on the volume is
/// taken as hostile: broken chains and folder cycles throw InvalidDataException naming the file.
/// Thread-safe.
/// </summary>
internal sealed class FatVolume
{
    // The spec's (and Linux's) limit on a folder: 65536 entries of 32 bytes.
    private const long MaxDirectoryBytes = 65536 * 32;

    private readonly IBlockReader _device;
    private readonly FatBootSector _boot;
    private readonly FatTable _fat;
    private readonly Lazy<string?> _label;
    // Which folder entry (parent cluster, name) each folder cluster was first read as. A cluster read again
    // as another folder is cross-linked: without this, folders listing the same subfolder many times over,
    // level after level, make a finite tree of astronomical size.
    private readonly ConcurrentDictionary<uint, (uint ParentCluster, string Name, string Path)> _folderOwners = new();

    private readonly FatCacheLimits _limits;
    private long _bigRunsBytes;                          // memory of the big run lists kept on entries

    private FatVolume(IBlockReader device, FatBootSector boot, FatCacheLimits limits)
    {
        _device = device;
        _boot = boot;
        _limits = limits;
        _fat = new FatTable(device, boot, limits.FatPageSize, limits.FatMaxPages);
        Root = new FatEntry("", FatDirectoryParser.AttrDirectory, boot.Bits == 32 ? boot.RootCluster : 0, 0,
                            DateTime.UnixEpoch, DateTime.UnixEpoch, DateTime.UnixEpoch, null, entryOffset: 0);
        _label = new Lazy<string?>(ReadLabel, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Reads and checks the boot sector; throws InvalidDataException when it is no usable FAT one.</summary>
    public static FatVolume Open(IBlockReader device) => Open(device, FatCacheLimits.Default);

    /// <summary>Open with other cache limits (tests use tiny ones to exercise eviction and the uncached paths).</summary>
    internal static FatVolume Open(IBlockReader device, FatCacheLimits limits) => new(device, FatBootSector.Read(device), limits);

    public FatEntry Root { get; }
    public string Kind => _boot.Kind;
    public int ClusterSize => _boot.ClusterSize;
    public long TotalClusters => _boot.TotalClusters;

    /// <summary>The root folder's volume-label entry, else the boot sector's label; null for none or "NO NAME".</summary>
    public string? Label => _label.Value;

    /// <summary>Free clusters counted in the FAT on first use (the FSInfo hint is not trusted), then cached.</summary>
    public long FreeClusters => _fat.FreeClusters;

    /// <summary>The entries of a folder in on-disk order, without ".", "..", volume labels, deleted entries and LFN slots.</summary>
    public IReadOnlyList<FatEntry> ReadDirectory(FatEntry directory)
    {
        if (!directory.IsDirectory) throw new ArgumentException($"{directory.FullPath} is not a folder.", nameof(directory));
        byte[] bytes = DirectoryBytes(directory, out var runs);
        // Where each entry lies on the volume: its identity (Linux keys inodes on it, i_pos).
        Func<int, long> offsetOf = runs is null
            ? i => _boot.RootOffset + i
            : i =>
            {
                int run = runs.RunOf(i / ClusterSize);
                return _boot.ClusterOffset(runs.Start[run]) + (i - (long)runs.FirstIndex[run] * ClusterSize);
            };
        return FatDirectoryParser.Parse(bytes, directory, _boot.Bits == 32, offsetOf);
    }

    /// <summary>Reads file bytes at offset; returns the count, 0 at or past Size. Never reads past Size.</summary>
    public int Read(FatEntry file, long offset, Span<byte> buffer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset >= file.Size || buffer.IsEmpty) return 0;
        int total = (int)Math.Min(buffer.Length, file.Size - offset);
        var runs = RunsOf(file, (file.Size + ClusterSize - 1) / ClusterSize);
        // Past a break in the chain no byte reads; a read reaching it fails whole rather than come back
        // short, which a caller would take for the end of the file.
        if (runs.Broken is not null && offset + total > runs.ClusterCount * ClusterSize)
            throw new InvalidDataException(runs.Broken);
        int done = 0;
        while (done < total)
        {
            long pos = offset + done;
            long index = pos / ClusterSize;
            int run = runs.RunOf(index);
            long intoRun = pos - (long)runs.FirstIndex[run] * ClusterSize;
            long runBytes = runs.RunLength(run) * ClusterSize;
            int n = (int)Math.Min(total - done, runBytes - intoRun);
            ReadData(_boot.ClusterOffset(runs.Start[run]) + intoRun, buffer.Slice(done, n), file);
            done += n;
        }
        return total;
    }

    /// <summary>A folder's bytes; runs is null for the fixed root folder of FAT12/16.</summary>
    private byte[] DirectoryBytes(FatEntry dir, out ClusterRuns? runs)
    {
        runs = null;
        if (dir.Parent is null && _boot.Bits != 32)
        {
            byte[] root = new byte[_boot.RootEntries * 32];
            ReadData(_boot.RootOffset, root, dir);
            return root;
        }
        if (dir.Parent is not null)
        {
            if (dir.FirstCluster == 0)
                throw new InvalidDataException($"FAT folder {dir.FullPath}: its first cluster is 0 (that of the root): a folder cycle.");
            for (var up = dir.Parent; up is not null; up = up.Parent)
                if (up.FirstCluster == dir.FirstCluster)
                    throw new InvalidDataException($"FAT folder {dir.FullPath}: its first cluster {dir.FirstCluster} is that of its ancestor {up.FullPath}: a folder cycle.");
            var claim = (dir.Parent.FirstCluster, dir.Name, dir.FullPath);
            var owner = _folderOwners.GetOrAdd(dir.FirstCluster, claim);
            if (owner.ParentCluster != claim.FirstCluster || owner.Name != claim.Name)
                throw new InvalidDataException($"FAT folder {dir.FullPath}: its first cluster {dir.FirstCluster} is that of the folder {owner.Path}: cross-linked folders.");
        }
        runs = RunsOf(dir, -1);
        byte[] bytes = new byte[runs.ClusterCount * ClusterSize];
        for (int r = 0; r < runs.Count; r++)
            ReadData(_boot.ClusterOffset(runs.Start[r]), bytes.AsSpan((int)(runs.FirstIndex[r] * (long)ClusterSize), (int)(runs.RunLength(r) * ClusterSize)), dir);
        return bytes;
    }

    /// <summary>The entry's runs, walked once and kept on it (two threads may both walk; either result is the same).</summary>
    private ClusterRuns RunsOf(FatEntry entry, long wanted)
    {
        var runs = Volatile.Read(ref entry.Runs);
        if (runs is not null) return runs;
        // A chain that cannot be read at all stays so: each read fails at once instead of walking it again.
        string? broken = Volatile.Read(ref entry.BrokenChain);
        if (broken is not null) throw new InvalidDataException(broken);
        string what = $"FAT {(entry.IsDirectory ? "folder" : "file")} {entry.FullPath}";
        long maxClusters = Math.Max(1, MaxDirectoryBytes / ClusterSize);
        try
        {
            runs = _fat.Walk(entry.FirstCluster, wanted, maxClusters, what);
        }
        catch (InvalidDataException ex)
        {
            Volatile.Write(ref entry.BrokenChain, ex.Message);
            throw;
        }
        // A crafted volume can give many files chains of millions of one-cluster runs: keeping all of them
        // would exhaust memory, so big lists are kept only within a budget (past it, each read walks again).
        if (runs.Count > _limits.SmallRuns)
        {
            long bytes = runs.Count * 8L;
            if (Interlocked.Add(ref _bigRunsBytes, bytes) > _limits.BigRunsBytes)
            {
                Interlocked.Add(ref _bigRunsBytes, -bytes);
                return runs;
            }
        }
        Volatile.Write(ref entry.Runs, runs);
        return runs;
    }

    private void ReadData(long offset, Span<byte> buffer, FatEntry entry)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int n = _device.ReadAt(offset + done, buffer[done..]);
            if (n <= 0)
                throw new InvalidDataException($"FAT {(entry.IsDirectory ? "folder" : "file")} {entry.FullPath}: its data lies past the end of the image (byte {offset + done}).");
            done += n;
        }
    }

    private string? ReadLabel()
    {
        try
        {
            var bytes = DirectoryBytes(Root, out _);
            for (int i = 0; i + 32 <= bytes.Length; i += 32)
            {
                var de = bytes.AsSpan(i, 32);
                byte attr = de[11];
                if (de[0] == 0 || de[0] == 0xE5 || attr == FatDirectoryParser.AttrLongName) continue;
                if ((attr & (FatDirectoryParser.AttrVolume | FatDirectoryParser.AttrDirectory)) == FatDirectoryParser.AttrVolume)
                {
                    byte[] name = de[..11].ToArray();
                    if (name[0] == 0x05) name[0] = 0xE5;
                    return FatBootSector.BootLabelOf(name);
                }
            }
        }
        catch (InvalidDataException)
        {
            // A root folder we cannot read leaves the boot sector's copy.
        }
        return _boot.BootLabel;
    }
}
