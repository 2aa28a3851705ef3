using System.Diagnostics;
using System.Globalization;
using System.Text;
using RestoreTools.Bench;
using RestoreTools.Engine;
using RestoreTools.Engine.Export;

// RestoreTools benchmark (issue 4): engine vs the plain tools on the engine's own read-only mount.
// Usage: RestoreTools.Bench --image IMG --work DIR [--out FILE]... [--repeat N]
// Cold = caches dropped right before the run; warm = median of N runs right after. Ratios are on warm runs.

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string? image = null, work = null;
var outs = new List<string>();
int repeat = 3;
string only = "tar,raw,list,mem";
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--image": image = args[++i]; break;
        case "--work": work = args[++i]; break;
        case "--out": outs.Add(args[++i]); break;
        case "--repeat": repeat = int.Parse(args[++i]); break;
        case "--only": only = args[++i]; break;
        default: Console.Error.WriteLine($"unknown argument '{args[i]}'"); return 2;
    }
}
if (image is null || work is null) { Console.Error.WriteLine("usage: RestoreTools.Bench --image IMG --work DIR [--out FILE] [--repeat N]"); return 2; }

string state = Path.Combine(work, "state");
Directory.CreateDirectory(state);
using var engine = new RestoreEngine(new EngineOptions
{
    ScanVirtio = false,
    NodeDir = Path.Combine(state, "dev"),
    MountRoot = Path.Combine(state, "mnt"),
    Warning = w => Console.Error.WriteLine("engine warning: " + w),
});
var bench = new Bench(engine, image, repeat, only.Split(','));
var table = bench.Run();

var sb = new StringBuilder();
sb.AppendLine($"RestoreTools benchmark  {DateTime.Now:yyyy-MM-dd HH:mm}  commit {Sh.Out("git -C " + Sh.Q(AppContext.BaseDirectory) + " rev-parse --short HEAD 2>/dev/null || echo ?").Trim()}");
sb.AppendLine($"machine: nproc {Environment.ProcessorCount}, kernel {Sh.Out("uname -r").Trim()}, {Sh.Out("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").Trim()}, " +
              $"RAM {Sh.Out("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")}, .NET {Environment.Version}, image on {Sh.Out($"df --output=source,fstype {Sh.Q(image)} | tail -1").Trim()}");
sb.AppendLine($"times: seconds (ms where marked); cold = after sync + drop_caches, warm = median of {repeat}; ratio = engine / reference on the row's runs");
sb.AppendLine();
sb.Append(table.Render());
sb.AppendLine();
foreach (var note in bench.Notes) sb.AppendLine(note);
string text = sb.ToString();
Console.Write(text);
foreach (var o in outs)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(o))!);
    File.WriteAllText(o, text);
}
return 0;

namespace RestoreTools.Bench
{
    internal sealed class Bench(RestoreEngine engine, string image, int repeat, string[] only)
    {
        public List<string> Notes { get; } = [];
        private readonly Table _t = new();
        private string _mnt = "";
        private const string Disk = "bench";
        private const string Bucket = "/bench/raw";

        public Table Run()
        {
            engine.AttachImage(image, Disk);
            _mnt = engine.Mount(Bucket).MountPoint!;
            Console.Error.WriteLine($"bench: image attached, mounted read-only at {_mnt}");
            WarmUpJit();
            if (only.Contains("tar")) TarTree();
            if (only.Contains("raw")) RawBigFile();
            if (only.Contains("list")) Listing();
            if (only.Contains("mem")) Memory();
            return _t;
        }

        /// <summary>Runs every engine path once on small inputs so no cold row pays for the JIT.</summary>
        private void WarmUpJit()
        {
            for (int i = 0; i < 3; i++)
            {
                engine.Export(Bucket + "/tree/d00/d00", Stream.Null, new ExportOptions(ExportFormat.Tar));
                using (var p = new PipeSink()) engine.Export(Bucket + "/tree/d00/d01", p.Stream, new ExportOptions(ExportFormat.Tar));
                using (var p = new PipeSink()) engine.Export(Bucket + "/tree/d00/d01/f00.bin", p.Stream, new ExportOptions(ExportFormat.Raw));
                foreach (var item in engine.List(Bucket + "/tree/d00")) Touch(item);
                using (var p = new PipeSink()) Prototype.BufferedTar(engine, Bucket + "/tree/d00/d02", p.Stream);
            }
        }

        // ---- 1. tar export of the 20,000-file tree ------------------------------------------------
        private void TarTree()
        {
            string path = Bucket + "/tree";
            string reference = $"tar -C {Sh.Q(_mnt)} -cf - tree | cat > /dev/null";
            Console.Error.WriteLine("bench: 1. tar export of the 20,000-file tree");

            var cold = Cold(() => ExportToPipe(path, ExportFormat.Tar), () => Sh.Time(reference));
            var warm = Warm(() => ExportToPipe(path, ExportFormat.Tar), () => Sh.Time(reference));
            _t.Row("1 tar 20k tree -> pipe | cat  (warm)", warm.Engine, warm.Ref, 1.1);
            _t.Row("1 tar 20k tree -> pipe | cat  (cold)", cold.Engine, cold.Ref, null);
            // The whole one-shot export: a fresh engine attaches the image, mounts on demand, exports
            // and unmounts (what Export-RestoreItem on an image runs); the reference attaches and mounts
            // the image afresh too (losetup, mount), runs GNU tar, unmounts and detaches. A fresh loop
            // device has cold block, inode and dentry caches on both sides (the image file itself stays
            // in the page cache).
            var shots = new List<double>();
            // losetup, not mount -o loop: mount would reuse the bench's own loop device (same file, read-only) and its warm caches.
            string oneShotRef = $"m=$(mktemp -d) && d=$(losetup -f --show -r {Sh.Q(image)}) && mount -o ro,noload \"$d\" \"$m\" && tar -C \"$m\" -cf - tree | cat > /dev/null; umount \"$m\"; losetup -d \"$d\"; rmdir \"$m\"";
            var oneShot = Warm(() => { var (t, end) = OneShot(path); shots.Add(end); return t + end; }, () => Sh.Time(oneShotRef));
            _t.Row("1 tar 20k tree, fresh engine: attach + mount + export + detach -> pipe | cat (warm)", oneShot.Engine, oneShot.Ref, 1.1, "ref: losetup; mount; tar|cat; umount; losetup -d");
            Notes.Add($"1: one-shot export (medians): attach {Median(_oneShotSplits.Select(x => x.Attach).ToList()) * 1000:F0} ms, mount {Median(_oneShotSplits.Select(x => x.Mount).ToList()) * 1000:F0} ms, "
                      + $"export {Median(_oneShotSplits.Select(x => x.Export).ToList()) * 1000:F0} ms, unmount + detach {Median(shots) * 1000:F0} ms");
            var nul = Warm(() => Time(() => engine.Export(path, Stream.Null, new ExportOptions(ExportFormat.Tar))), () => Sh.Time(reference));
            _t.Row("1 tar 20k tree -> Stream.Null (warm)", nul.Engine, nul.Ref, null, "ref: tar|cat");
            var proto = Warm(() => Time(() => { using var p = new PipeSink(); Prototype.BufferedTar(engine, path, p.Stream); }), () => Sh.Time(reference));
            _t.Row("1 tar 20k tree -> pipe, 64K-buffered (prototype, warm)", proto.Engine, proto.Ref, null, "bench/Prototype.cs");

            var counter = new CountingSink();
            var result = engine.Export(path, counter, new ExportOptions(ExportFormat.Tar));
            long tarBytes = long.Parse(Sh.Out($"tar -C {Sh.Q(_mnt)} -cf - tree | wc -c").Trim());
            Notes.Add($"1: engine archive {Mib(counter.Bytes)} in {counter.Writes:N0} Write calls ({result.Files:N0} files, {result.Directories:N0} folders, {Mib(result.Bytes)} data); GNU tar {Mib(tarBytes)} in 10 KiB records");
            string? trace;
            using (var sink = new PipeSink()) // started before strace attaches, so its fork is not traced
                trace = Strace.Summarise(() => engine.Export(path, sink.Stream, new ExportOptions(ExportFormat.Tar)));
            if (trace is not null) Notes.Add("1: engine syscalls (strace -f -c, one warm run): " + trace);
            var refTrace = Strace.SummariseCommand($"tar -C {Sh.Q(_mnt)} -cf - tree", "| cat > /dev/null");
            if (refTrace is not null) Notes.Add("1: GNU tar syscalls (strace -c on tar only):       " + refTrace);
        }

        // ---- 2. raw export of the 1 GiB file -------------------------------------------------------
        private void RawBigFile()
        {
            string path = Bucket + "/big.bin";
            string file = Path.Combine(_mnt, "big.bin");
            string reference = $"cat {Sh.Q(file)} | cat > /dev/null";
            Console.Error.WriteLine("bench: 2. raw export of the 1 GiB file");

            var cold = Cold(() => ExportToPipe(path, ExportFormat.Raw), () => Sh.Time(reference));
            var warm = Warm(() => ExportToPipe(path, ExportFormat.Raw), () => Sh.Time(reference));
            _t.Row("2 raw 1 GiB file -> pipe | cat (warm)", warm.Engine, warm.Ref, 1.1);
            _t.Row("2 raw 1 GiB file -> pipe | cat (cold)", cold.Engine, cold.Ref, null);
            var nul = Warm(() => Time(() => engine.Export(path, Stream.Null, new ExportOptions(ExportFormat.Raw))),
                () => Sh.Time($"cat {Sh.Q(file)} > /dev/null"));
            _t.Row("2 raw 1 GiB file -> Stream.Null (warm)", nul.Engine, nul.Ref, null, "ref: cat f >/dev/null");
            var proto = Warm(() => Time(() => { using var p = new PipeSink(); Prototype.CopyRaw(engine, path, p.Stream, 128 << 10); }), () => Sh.Time(reference));
            _t.Row("2 raw 1 GiB -> pipe, 128K copy buffer (prototype, warm)", proto.Engine, proto.Ref, null, "bench/Prototype.cs");
            Notes.Add($"2: warm throughput: engine -> pipe {1024 / warm.Engine:F0} MiB/s, cat | cat {1024 / warm.Ref:F0} MiB/s; cold: engine {1024 / cold.Engine:F0} MiB/s, cat | cat {1024 / cold.Ref:F0} MiB/s");
        }

        // ---- 3 and 4. listing the 100,000-entry folder ---------------------------------------------
        private void Listing()
        {
            string path = Bucket + "/wide";
            string reference = $"ls -l {Sh.Q(Path.Combine(_mnt, "wide"))} > /dev/null";
            Console.Error.WriteLine("bench: 3. listing the 100,000-entry folder");

            double firstCold = double.MaxValue;
            var cold = Cold(() => { var t = ListAll(path, out double f); firstCold = Math.Min(firstCold, f); return t; }, () => Sh.Time(reference));
            var firsts = new List<double>();
            var warm = Warm(() => { var s = ListAll(path, out double f); firsts.Add(f); return s; }, () => Sh.Time(reference));
            _t.Row("3 list 100k folder, all props (warm)", warm.Engine, warm.Ref, 1.5);
            _t.Row("3 list 100k folder, all props (cold)", cold.Engine, cold.Ref, null);
            firsts.Sort();
            _t.Info("4 first entry of the 100k listing (cold)", $"{firstCold * 1000:F1} ms");
            _t.Info("4 first entry of the 100k listing (warm)", $"{firsts[firsts.Count / 2] * 1000:F1} ms");
            int n = engine.List(path).Count();
            Notes.Add($"3: the engine listed {n:N0} entries; ls -l reads, lstats, sorts and formats the same folder (its user/group lookups are cached)");
            var trace = Strace.Summarise(() => ListAll(path, out _));
            if (trace is not null) Notes.Add("3: engine syscalls (strace -f -c, one warm run): " + trace);
            var refTrace = Strace.SummariseCommand($"ls -l {Sh.Q(Path.Combine(_mnt, "wide"))}", "> /dev/null");
            if (refTrace is not null) Notes.Add("3: ls -l syscalls (strace -c):                    " + refTrace);
        }

        /// <summary>Peak working set while listing 10,000 and 100,000 entries: constant memory means no growth with count.</summary>
        private void Memory()
        {
            Console.Error.WriteLine("bench: 3. peak memory of the listings");
            foreach (var i in engine.List(Bucket + "/wide10k")) Touch(i); // first-use page faults are not the listing's
            var small = ProcMem.Listing(() => { foreach (var i in engine.List(Bucket + "/wide10k")) Touch(i); }, 10_000);
            var big = ProcMem.Listing(() => { foreach (var i in engine.List(Bucket + "/wide")) Touch(i); }, 100_000);
            var triple = ProcMem.Listing(() => { for (int k = 0; k < 3; k++) foreach (var i in engine.List(Bucket + "/wide")) Touch(i); }, 300_000);
            double step1 = (big.PeakGrowth - small.PeakGrowth) / 1048576.0, step2 = (triple.PeakGrowth - big.PeakGrowth) / 1048576.0;
            _t.Info("3 peak working set growth, list 10k", $"{small.PeakGrowth / 1048576.0:F1} MiB");
            _t.Info("3 peak working set growth, list 100k", $"{big.PeakGrowth / 1048576.0:F1} MiB");
            _t.Info("3 peak working set growth, list 100k x3 (300k)", $"{triple.PeakGrowth / 1048576.0:F1} MiB");
            _t.Info("3 peak growth 10k -> 100k entries (gen0 budget filling)", $"{step1:+0.0;-0.0} MiB");
            _t.Goal("3 peak growth 100k -> 300k entries", $"{step2:+0.0;-0.0} MiB", "<= 2 MiB", step2 <= 2);
            Notes.Add($"3: memory: RSS before {small.RssBefore / 1048576.0:F1} MiB; VmHWM reset (clear_refs 5) and GC.Collect before each listing; " +
                      $"allocated {small.Allocated / (double)small.Entries:F0} B/entry (10k), {big.Allocated / (double)big.Entries:F0} B/entry (100k); " +
                      $"GC heap after (uncollected): {small.HeapAfter / 1048576.0:F1} / {big.HeapAfter / 1048576.0:F1} / {triple.HeapAfter / 1048576.0:F1} MiB; " +
                      $"gen0 GCs: {small.Gen0} / {big.Gen0} / {triple.Gen0} (10k / 100k / 300k)");
        }

        // ---- helpers --------------------------------------------------------------------------------
        private double ExportToPipe(string path, ExportFormat format) => Time(() =>
        {
            using var p = new PipeSink();
            engine.Export(path, p.Stream, new ExportOptions(format));
        });

        private int _shots;
        private readonly List<(double Attach, double Mount, double Export)> _oneShotSplits = [];

        /// <summary>A fresh engine with its own state folder: attach, export (mount on demand), then dispose (unmount, detach; timed apart).</summary>
        private (double Export, double Dispose) OneShot(string path)
        {
            string state = Path.Combine(Path.GetTempPath(), $"restoretools-bench-oneshot-{Environment.ProcessId}-{++_shots}");
            var sw = Stopwatch.StartNew();
            var fresh = new RestoreEngine(new EngineOptions
            {
                ScanVirtio = false,
                NodeDir = Path.Combine(state, "dev"),
                MountRoot = Path.Combine(state, "mnt"),
            });
            double export, end;
            try
            {
                fresh.AttachImage(image, "oneshot");
                double attached = sw.Elapsed.TotalSeconds;
                fresh.Mount(Bucket.Replace("/" + Disk + "/", "/oneshot/"));
                double mounted = sw.Elapsed.TotalSeconds;
                using (var p = new PipeSink()) fresh.Export(path.Replace("/" + Disk + "/", "/oneshot/"), p.Stream, new ExportOptions(ExportFormat.Tar));
                export = sw.Elapsed.TotalSeconds;
                _oneShotSplits.Add((attached, mounted - attached, export - mounted));
            }
            finally
            {
                fresh.Dispose();
            }
            end = sw.Elapsed.TotalSeconds - export;
            try { Directory.Delete(state, true); } catch (IOException) { }
            return (export, end);
        }

        private double ListAll(string path, out double first)
        {
            var sw = Stopwatch.StartNew();
            first = -1;
            long n = 0;
            foreach (var item in engine.List(path))
            {
                if (n++ == 0) first = sw.Elapsed.TotalSeconds;
                Touch(item);
            }
            return sw.Elapsed.TotalSeconds;
        }

        private static long _sink;
        private static void Touch(RestoreTools.Engine.Browsing.RestoreItem i)
        {
            _sink += i.Name.Length + i.Path.Length + (int)i.Type + i.Size + (i.LastWriteTime?.Ticks ?? 0) + i.Mode + (i.Uid ?? 0) + (i.Gid ?? 0)
                     + (i.LinkTarget?.Length ?? 0) + i.ModeString.Length + i.ModeOctal.Length + (i.IsContainer ? 1 : 0);
        }

        private static double Time(Action a)
        {
            var sw = Stopwatch.StartNew();
            a();
            return sw.Elapsed.TotalSeconds;
        }

        /// <summary>
        /// Cold runs: two rounds, caches dropped before every run, the order swapped in the second
        /// round (the host may cache the image file below this VM); the faster run of each side counts.
        /// </summary>
        private static (double Engine, double Ref) Cold(Func<double> eng, Func<double> reference)
        {
            Sh.DropCaches(); double e1 = eng();
            Sh.DropCaches(); double r1 = reference();
            Sh.DropCaches(); double r2 = reference();
            Sh.DropCaches(); double e2 = eng();
            return (Math.Min(e1, e2), Math.Min(r1, r2));
        }

        /// <summary>Alternates engine and reference runs (one unmeasured pass first), medians of each.</summary>
        private (double Engine, double Ref) Warm(Func<double> eng, Func<double> reference)
        {
            eng(); reference();
            var e = new List<double>(); var r = new List<double>();
            for (int i = 0; i < repeat; i++) { e.Add(eng()); r.Add(reference()); }
            return (Median(e), Median(r));
        }

        private static double Median(List<double> v) { v.Sort(); return v[v.Count / 2]; }
        private static string Mib(long b) => $"{b / 1048576.0:F1} MiB";
    }
}
