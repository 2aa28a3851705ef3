using System.Globalization;
using RestoreTools.Tests.Unit.Fuzz;

// restore-fuzz: the long fuzz run of the partition-table readers and filesystem probes.
//   run SECONDS [--corpus DIR] [--findings DIR] [--seed N]   random mutation of the seed corpus
//   afl                                                       one afl++ target process (SharpFuzz)
//   replay FILE...                                            run saved inputs again and say how each went
//   pack [--4k] [--head BYTES] [--tail BYTES] IMAGE OUT       pack a real image into a seed
//   synth OUTDIR                                              seeds of LVM, MD and ZFS (no working tools here)
return args.FirstOrDefault() switch
{
    "run" => Commands.Run(args[1..]),
    "afl" => Commands.Afl(),
    "replay" => Commands.Replay(args[1..]),
    "pack" => Commands.Pack(args[1..]),
    "synth" => Commands.Synth(args[1..]),
    _ => Commands.Usage(),
};

internal static class Commands
{
    public static int Usage()
    {
        Console.Error.WriteLine("usage: restore-fuzz run SECONDS [--corpus DIR] [--findings DIR] [--seed N] | afl | replay FILE... | pack [--4k] [--head N] [--tail N] IMAGE OUT");
        return 2;
    }

    private static string? Option(List<string> args, string name)
    {
        int i = args.IndexOf(name);
        if (i < 0 || i + 1 >= args.Count) return null;
        string v = args[i + 1];
        args.RemoveRange(i, 2);
        return v;
    }

    public static int Run(string[] argv)
    {
        var args = argv.ToList();
        string corpusDir = Option(args, "--corpus") ?? FuzzCorpus.DefaultDirectory();
        string findings = Option(args, "--findings") ?? Path.Combine(Directory.GetCurrentDirectory(), "fuzz-findings");
        int seed = int.Parse(Option(args, "--seed") ?? Environment.TickCount.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        double seconds = args.Count > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 60;

        var corpus = FuzzCorpus.Load(corpusDir);
        if (corpus.Count == 0) { Console.Error.WriteLine($"no seeds in {corpusDir}"); return 2; }
        Console.WriteLine($"fuzz: {corpus.Count} seeds from {corpusDir}, seed {seed}, {seconds} s, findings to {findings}");
        FuzzStats? stats = null;
        var runner = new FuzzRunner([.. corpus.Select(c => c.Disk)], seed, findings)
        {
            OnStuck = f =>
            {
                Console.WriteLine($"HANG: {f.Message}; input saved as {f.SavedAs}");
                if (stats is not null) Console.WriteLine(stats.Summary());
                Console.WriteLine("fuzz: stopped on a hang");
                Environment.Exit(3);
            },
        };
        stats = runner.Run(long.MaxValue, TimeSpan.FromSeconds(seconds), Console.WriteLine);
        foreach (var f in stats.Findings)
            Console.WriteLine($"{f.Kind.ToUpperInvariant()}: {f.Signature} -> {f.SavedAs}\n  {f.Message.Split('\n')[0]}");
        Console.WriteLine(stats.Summary());
        return stats.Failed ? 1 : 0;
    }

    public static int Afl()
    {
        // Persistent mode: afl++ hands inputs through shared memory, coverage comes from the
        // instrumented RestoreTools.Engine.dll. An escaping exception is what afl++ records as a crash.
        SharpFuzz.Fuzzer.Run(stream =>
        {
            using var ms = new MemoryStream();
            stream.CopyTo(ms);
            var disk = FuzzDisk.Decode(ms.ToArray()).Reader();
            long before = GC.GetAllocatedBytesForCurrentThread();
            var outcome = FuzzTarget.Run(disk);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (outcome.Verdict is FuzzVerdict.Crash or FuzzVerdict.BadResult or FuzzVerdict.Masked)
                throw new InvalidOperationException($"{outcome.Verdict} in {outcome.Where}", outcome.Error);
            if (allocated > 256L * 1024 * 1024)
                throw new InsufficientMemoryException($"one input allocated {allocated / (1024 * 1024)} MiB");
        });
        return 0;
    }

    public static int Replay(string[] files)
    {
        int bad = 0;
        foreach (var f in files)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            long before = GC.GetAllocatedBytesForCurrentThread();
            var o = FuzzTarget.Run(FuzzDisk.Decode(File.ReadAllBytes(f)).Reader());
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Console.WriteLine($"{f}: {o.Verdict} {o.Where} {sw.Elapsed.TotalMilliseconds:F0} ms {allocated / 1024} KiB");
            Console.WriteLine($"  {What(FuzzDisk.Decode(File.ReadAllBytes(f)).Reader())}");
            if (o.Error is not null) Console.WriteLine($"  {o.Error.GetType().FullName}: {o.Error.Message}\n{o.Error.StackTrace}");
            if (o.Verdict != FuzzVerdict.Clean) bad++;
        }
        return bad == 0 ? 0 : 1;
    }

    /// <summary>What the engine makes of a disk: its table and the filesystems on it.</summary>
    private static string What(RestoreTools.Engine.Disks.IBlockReader disk)
    {
        string table;
        var fs = new List<string> { $"disk: {RestoreTools.Engine.FileSystems.FileSystemProber.Default.Probe(disk)?.Type ?? "-"}" };
        try
        {
            var t = RestoreTools.Engine.Partitions.PartitionTableReader.Read(disk);
            table = t is null ? "no table" : $"{t.Label} ({t.SectorSize}) with {t.Partitions.Count} partitions, {t.Warnings.Count} warnings";
            foreach (var p in t?.Partitions ?? [])
                if (p.StartSector >= 0 && p.SectorCount > 0 && p.StartSector < long.MaxValue / p.SectorSize && p.SectorCount < long.MaxValue / p.SectorSize)
                    fs.Add($"{p.Number}: {RestoreTools.Engine.FileSystems.FileSystemProber.Default.Probe(new RestoreTools.Engine.Disks.SliceBlockReader(disk, p.StartBytes, p.SizeBytes))?.Type ?? "-"}");
        }
        catch (Exception e) { table = $"{e.GetType().Name}: {e.Message}"; }
        return $"{table}; {string.Join(", ", fs)}";
    }

    /// <summary>
    /// mdadm and pvcreate want block devices the kernel here cannot give them (no md driver) and Debian
    /// has no ZFS tools: these seeds use the unit tests' headers, written from the formats' definitions.
    /// </summary>
    public static int Synth(string[] argv)
    {
        if (argv.Length != 1) return Usage();
        string work = Directory.CreateTempSubdirectory("rt-fuzz-synth-").FullName;
        try
        {
            const long Size = 8L << 20, ZfsSize = 64L << 20;
            var made = new (string Name, long Size, Action<string> Write)[]
            {
                ("lvm", Size, p => RestoreTools.Tests.Unit.FileSystems.SyntheticImages.WriteLvmLabel(p)),
                ("md090", Size, p => RestoreTools.Tests.Unit.FileSystems.SyntheticImages.WriteMd090(p, Size)),
                ("md10", Size, p => RestoreTools.Tests.Unit.FileSystems.SyntheticImages.WriteMd1(p, Size, 0, "host:md10")),
                ("md11", Size, p => RestoreTools.Tests.Unit.FileSystems.SyntheticImages.WriteMd1(p, Size, 1, "host:md11")),
                ("md12", Size, p => RestoreTools.Tests.Unit.FileSystems.SyntheticImages.WriteMd1(p, Size, 2, "host:md12")),
                ("zfs", ZfsSize, p => RestoreTools.Tests.Unit.FileSystems.SyntheticImages.WriteZfsLabels(p, "tank")),
            };
            foreach (var (name, size, write) in made)
            {
                string img = Path.Combine(work, name + ".img");
                RestoreTools.Tests.Unit.FileSystems.ProbeTestSupport.CreateSparse(img, size);
                write(img);
                var disk = FuzzDisk.Pack(File.ReadAllBytes(img), false);
                string outFile = Path.Combine(argv[0], $"synth-{name}.bin");
                File.WriteAllBytes(outFile, disk.Encode());
                Console.WriteLine($"{outFile}: {new FileInfo(outFile).Length} bytes");
            }
        }
        finally { Directory.Delete(work, true); }
        return 0;
    }

    public static int Pack(string[] argv)
    {
        var args = argv.ToList();
        bool k4 = args.Remove("--4k");
        long head = long.Parse(Option(args, "--head") ?? "4194304", CultureInfo.InvariantCulture);
        long tail = long.Parse(Option(args, "--tail") ?? "1048576", CultureInfo.InvariantCulture);
        if (args.Count != 2) return Usage();
        var image = File.ReadAllBytes(args[0]);
        var disk = FuzzDisk.Pack(image, k4, tail);
        // Only the head and the tail: what the tables and superblocks use, not file contents.
        disk.Segments.RemoveAll(s => s.Offset >= 0 && s.Offset >= head);
        for (int i = 0; i < disk.Segments.Count; i++)
            if (disk.Segments[i] is var (off, data) && off >= 0 && off + data.Length > head)
                disk.Segments[i] = (off, data[..(int)(head - off)]);
        byte[] packed = disk.Encode();
        File.WriteAllBytes(args[1], packed);
        Console.WriteLine($"{args[1]}: {image.Length} bytes -> {packed.Length} bytes in {disk.Segments.Count} segments");
        return 0;
    }
}
