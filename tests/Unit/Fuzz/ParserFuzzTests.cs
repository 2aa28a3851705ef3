using RestoreTools.Engine.Partitions;

namespace RestoreTools.Tests.Unit.Fuzz;

/// <summary>
/// The short fixed-seed fuzz run of the partition-table readers and filesystem probes over the seed
/// corpus (real tables and superblocks, tests/Fuzz/corpus), and one regression test per bug class it
/// found. The long run is tests/Fuzz/run.sh.
/// </summary>
public sealed class ParserFuzzTests
{
    [Fact]
    public void SeedCorpusAndAflQueueAreReadCleanly()
    {
        string dir = FuzzCorpus.DefaultDirectory();
        var corpus = FuzzCorpus.Load(dir);
        Assert.True(corpus.Count >= 20, $"only {corpus.Count} seeds");
        string queue = Path.Combine(Path.GetDirectoryName(dir)!, "afl-queue");
        if (Directory.Exists(queue)) corpus.AddRange(FuzzCorpus.Load(queue));
        foreach (var (name, disk) in corpus)
        {
            var o = FuzzTarget.Run(disk.Reader());
            Assert.True(o.Verdict == FuzzVerdict.Clean, $"{name}: {o.Verdict} in {o.Where}: {o.Error}");
        }
    }

    [Fact]
    public async Task FixedSeedRun_NoCrashNoHangNoBigAllocation()
    {
        var corpus = FuzzCorpus.Load(FuzzCorpus.DefaultDirectory()).Select(c => c.Disk).ToList();
        string findings = Path.Combine(Path.GetTempPath(), $"rt-fuzz-findings-{Environment.ProcessId}");
        FuzzFinding? stuck = null;
        var runner = new FuzzRunner(corpus, seed: 20261127, findings) { OnStuck = f => stuck = f };
        // On its own thread, so an input that never returns fails the test instead of wedging the run.
        var run = Task.Factory.StartNew(() => runner.Run(10000, TimeSpan.FromMinutes(2)), TaskCreationOptions.LongRunning);
        FuzzStats stats;
        try { stats = await run.WaitAsync(TimeSpan.FromMinutes(3)); }
        catch (TimeoutException) { throw new Xunit.Sdk.XunitException($"fuzz run did not finish: {stuck?.Message} ({stuck?.SavedAs})"); }

        string details = string.Join("\n", stats.Findings.Select(f => $"{f.Kind} {f.Signature} -> {f.SavedAs}\n{f.Message}"));
        Assert.True(stats.Inputs >= 10000, stats.Summary());
        Assert.True(!stats.Failed && stats.Masked == 0, stats.Summary() + "\n" + details);
        if (!stats.Failed) try { Directory.Delete(findings, true); } catch (DirectoryNotFoundException) { }
    }

    /// <summary>Bug class: GPT entries with LBAs whose byte offsets overflow a long (were handed to the probes and BLKPG).</summary>
    [Fact]
    public void GptEntryBeyondAnyDisk_IsSkippedWithAWarning()
    {
        var disk = CraftedDisks.Gpt(8 << 20, 128, (2048, 4095), (1L << 60, (1L << 60) + 100), (4096, long.MaxValue - 1));
        var table = PartitionTableReader.Read(disk.Reader());
        Assert.NotNull(table);
        Assert.Equal([1], table.Partitions.Select(p => p.Number));
        Assert.Equal(2, table.Warnings.Count(w => w.Contains("beyond any disk", StringComparison.Ordinal)));
        Assert.Equal(FuzzVerdict.Clean, FuzzTarget.Run(disk.Reader()).Verdict);
    }

    /// <summary>Bug class: a GPT whose (CRC-valid) entry array names hundreds of thousands of partitions.</summary>
    [Fact]
    public void GptWithHugeEntryArray_StopsAtTheKernelsPartitionLimit()
    {
        const uint Count = 32 * 1024;
        var entries = Enumerable.Range(0, (int)Count).Select(i => (2048L + i, 2048L + i)).ToArray();
        var disk = CraftedDisks.Gpt(64 << 20, Count, entries);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var table = PartitionTableReader.Read(disk.Reader());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.NotNull(table);
        Assert.Equal(256, table.Partitions.Count);
        Assert.Contains(table.Warnings, w => w.Contains("partitions", StringComparison.Ordinal));
        Assert.True(allocated < 64L << 20, $"{allocated} bytes allocated");
    }

    /// <summary>Bug class: NTFS $MFT offset overflowing a long (OverflowException, only caught by the probe's safety net).</summary>
    [Fact]
    public void NtfsMftClusterBeyondLong_IsNotNtfs()
    {
        var o = FuzzTarget.Run(CraftedDisks.NtfsMftBeyondLong().Reader());
        Assert.True(o.Verdict == FuzzVerdict.Clean, $"{o.Verdict} in {o.Where}: {o.Error}");
    }

    /// <summary>Bug class: a ZFS nvpair whose value starts past the 4 KiB read (read out of the buffer).</summary>
    [Fact]
    public void ZfsNvpairPastTheBuffer_GivesNoName()
    {
        var disk = CraftedDisks.ZfsNameAtEndOfNvlist();
        var o = FuzzTarget.Run(disk.Reader());
        Assert.True(o.Verdict == FuzzVerdict.Clean, $"{o.Verdict} in {o.Where}: {o.Error}");
        var fs = new RestoreTools.Engine.FileSystems.ZfsProbe().Probe(disk.Reader());
        Assert.Equal("zfs_member", fs?.Type);
        Assert.Null(fs!.Label);
    }

    /// <summary>Bug class: a 32-bit header offset plus a length wrapping around (LVM pv_header offset).</summary>
    [Fact]
    public void LvmPvHeaderOffsetNear4G_IsNotLvm()
    {
        var disk = CraftedDisks.LvmHugePvOffset();
        var o = FuzzTarget.Run(disk.Reader());
        Assert.True(o.Verdict == FuzzVerdict.Clean, $"{o.Verdict} in {o.Where}: {o.Error}");
        Assert.Null(new RestoreTools.Engine.FileSystems.LvmProbe().Probe(disk.Reader()));
    }

    /// <summary>
    /// Bug class: work multiplied by partitions. A GPT of 256 partitions that all start on one hostile
    /// superblock makes every probe run 256 times; each probe's reads must be small and bounded.
    /// </summary>
    [Fact]
    public void ManyPartitionsOnOneHostileSuperblock_StayWithinTheLimits()
    {
        var entries = Enumerable.Range(0, GptTable.MaxPartitions).Select(_ => (2048L, 2048L + (128L << 20) / 512 - 1)).ToArray();
        var disk = CraftedDisks.Gpt(256L << 20, 256, entries);
        CraftedDisks.AddLoopingFat32(disk, 2048 * 512);
        var reader = disk.Reader();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var o = FuzzTarget.Run(reader);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(o.Verdict == FuzzVerdict.Clean, $"{o.Verdict} in {o.Where}: {o.Error}");
        Assert.True(allocated < 256L << 20, $"{allocated >> 20} MiB allocated");
        Assert.True(((FuzzDiskReader)reader).BytesRead < 256L << 20, $"{((FuzzDiskReader)reader).BytesRead >> 20} MiB read");
    }

    /// <summary>Bug class: a directory walk that never ends (exFAT root chain looping, read 32 bytes at a time).</summary>
    [Fact]
    public void ExfatLoopingRootDirectory_EndsAfterAFewReads()
    {
        var reader = (FuzzDiskReader)CraftedDisks.ExfatLoopingRoot().Reader();
        var fs = new RestoreTools.Engine.FileSystems.ExfatProbe().Probe(reader);
        Assert.Equal("exfat", fs?.Type);
        Assert.Null(fs!.Label);
        Assert.True(reader.ReadCalls < 50, $"{reader.ReadCalls} reads");
    }
}
