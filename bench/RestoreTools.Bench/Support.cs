using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using RestoreTools.Engine;
using RestoreTools.Engine.Export;

namespace RestoreTools.Bench;

/// <summary>Shell commands: timed runs of the reference tools, and small queries.</summary>
internal static class Sh
{
    public static string Q(string s) => "'" + s.Replace("'", "'\\''") + "'";

    /// <summary>Wall time of a bash command, process start included (a few ms, as the engine's pipe sink pays too).</summary>
    public static double Time(string command)
    {
        var sw = Stopwatch.StartNew();
        Run(command);
        return sw.Elapsed.TotalSeconds;
    }

    public static string Run(string command)
    {
        var psi = new ProcessStartInfo("bash", ["-c", "set -o pipefail; " + command]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"'{command}' failed ({p.ExitCode}): {err.Result}");
        return output;
    }

    public static string Out(string command)
    {
        try { return Run(command); } catch (InvalidOperationException) { return "?"; }
    }

    public static void DropCaches()
    {
        Run("sync");
        File.WriteAllText("/proc/sys/vm/drop_caches", "3");
    }
}

/// <summary>`cat > /dev/null` on the other end of a pipe: the engine writes to the pipe's write end as a caller would.</summary>
internal sealed class PipeSink : IDisposable
{
    private readonly Process _cat;
    public Stream Stream { get; }

    public PipeSink()
    {
        var psi = new ProcessStartInfo("bash", ["-c", "exec cat > /dev/null"]) { RedirectStandardInput = true };
        _cat = Process.Start(psi)!;
        Stream = _cat.StandardInput.BaseStream; // an unbuffered pipe stream: one write(2) per Write call
    }

    public void Dispose()
    {
        Stream.Flush();
        _cat.StandardInput.Close();
        _cat.WaitForExit();
        if (_cat.ExitCode != 0) throw new InvalidOperationException($"cat exited {_cat.ExitCode}");
        _cat.Dispose();
    }
}

/// <summary>A write-only sink that counts bytes and Write calls.</summary>
internal sealed class CountingSink : Stream
{
    public long Bytes { get; private set; }
    public long Writes { get; private set; }
    public override void Write(byte[] buffer, int offset, int count) { Bytes += count; Writes++; }
    public override void Write(ReadOnlySpan<byte> buffer) { Bytes += buffer.Length; Writes++; }
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => Bytes;
    public override long Position { get => Bytes; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>Ideas for the engine, tried from outside it (src/ is not ours to edit).</summary>
internal static partial class Prototype
{
    /// <summary>The engine's tar export with its output behind a 64 KiB buffer: what a buffered writer inside the engine would do.</summary>
    public static void BufferedTar(IRestoreEngine engine, string path, Stream output)
    {
        var buffered = new BufferedStream(output, 1 << 16); // not disposed: the pipe is the caller's
        engine.Export(path, buffered, new ExportOptions(ExportFormat.Tar));
        buffered.Flush();
    }
}

internal static partial class Prototype
{
    /// <summary>Raw export as the engine does it (OpenRead, then CopyTo), with a cache-sized copy buffer instead of 1 MiB.</summary>
    public static void CopyRaw(IRestoreEngine engine, string path, Stream output, int bufferSize)
    {
        using var source = engine.OpenRead(path);
        source.CopyTo(output, bufferSize);
    }
}

/// <summary>Peak working set (VmHWM) around one action, with the peak reset first.</summary>
internal static class ProcMem
{
    public sealed record Sample(long RssBefore, long Peak, long Allocated, long HeapAfter, int Gen0, long Entries)
    {
        public long PeakGrowth => Peak - RssBefore;
    }

    public static Sample Listing(Action action, long entries)
    {
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
        File.WriteAllText("/proc/self/clear_refs", "5"); // resets VmHWM to the current RSS (Linux >= 4.0)
        long rss = Read("VmRSS");
        long alloc = GC.GetTotalAllocatedBytes(true);
        int gen0 = GC.CollectionCount(0);
        action();
        long peak = Read("VmHWM");
        return new Sample(rss, peak, GC.GetTotalAllocatedBytes(true) - alloc, GC.GetTotalMemory(false), GC.CollectionCount(0) - gen0, entries);
    }

    private static long Read(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
                return long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0]) * 1024;
        throw new InvalidOperationException(key + " not in /proc/self/status");
    }
}

/// <summary>strace -c summaries (top syscalls by count), when strace is installed.</summary>
internal static class Strace
{
    private static readonly bool Available = File.Exists("/usr/bin/strace");

    /// <summary>Attaches strace to this process (all threads) around one action.</summary>
    public static string? Summarise(Action action)
    {
        if (!Available) return null;
        string file = Path.GetTempFileName();
        var psi = new ProcessStartInfo("strace", ["-f", "-c", "-o", file, "-p", Environment.ProcessId.ToString()]) { RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        // strace says "Process N attached" per thread; wait for the first, then a moment for the rest.
        string? line = p.StandardError.ReadLine();
        if (line is null) return null;
        var drain = p.StandardError.ReadToEndAsync();
        Thread.Sleep(300);
        action();
        Sh.Run($"kill -INT {p.Id}");
        p.WaitForExit();
        _ = drain.Result;
        string summary = Top(File.ReadAllText(file));
        File.Delete(file);
        return summary;
    }

    /// <summary>Runs `strace -c CMD | tail`; the traced command is the first of the pipeline.</summary>
    public static string? SummariseCommand(string tracedCommand, string tail)
    {
        if (!Available) return null;
        string file = Path.GetTempFileName();
        Sh.Run($"strace -c -o {Sh.Q(file)} {tracedCommand} {tail}");
        string summary = Top(File.ReadAllText(file));
        File.Delete(file);
        return summary;
    }

    private static string Top(string text)
    {
        var rows = new List<(string Name, long Calls, double Seconds)>();
        foreach (var line in text.Split('\n'))
        {
            var m = Regex.Match(line, @"^\s*([\d.]+)\s+([\d.]+)\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$");
            if (m.Success && m.Groups[4].Value != "total")
                rows.Add((m.Groups[4].Value, long.Parse(m.Groups[3].Value), double.Parse(m.Groups[2].Value)));
        }
        long total = rows.Sum(r => r.Calls);
        var top = rows.Where(r => r.Name is not ("futex" or "epoll_wait" or "restart_syscall" or "wait4"))
            .OrderByDescending(r => r.Calls).Take(7).Select(r => $"{r.Name} {r.Calls:N0}");
        return $"{total:N0} calls: " + string.Join(", ", top);
    }
}

/// <summary>The results table: figure, engine, reference, ratio, goal, result.</summary>
internal sealed class Table
{
    private readonly List<string[]> _rows = [];

    public void Row(string figure, double engine, double reference, double? goal, string? note = null)
    {
        double ratio = engine / reference;
        _rows.Add([figure, $"{engine:F3} s", $"{reference:F3} s", $"{ratio:F2}", goal is null ? "-" : $"<= {goal:0.0#}",
            goal is null ? "info" : ratio <= goal ? "PASS" : "MISS", note ?? ""]);
    }

    public void Info(string figure, string engine) => _rows.Add([figure, engine, "-", "-", "-", "info", ""]);

    public void Goal(string figure, string engine, string goal, bool pass) => _rows.Add([figure, engine, "-", "-", goal, pass ? "PASS" : "MISS", ""]);

    public string Render()
    {
        string[] head = ["figure", "engine", "reference", "ratio", "goal", "result", "note"];
        var all = _rows.Prepend(head).ToList();
        int[] w = Enumerable.Range(0, head.Length).Select(c => all.Max(r => r[c].Length)).ToArray();
        var sb = new StringBuilder();
        foreach (var (r, i) in all.Select((r, i) => (r, i)))
        {
            sb.AppendLine(string.Join("  ", r.Select((c, j) => j is 1 or 2 or 3 ? c.PadLeft(w[j]) : c.PadRight(w[j]))).TrimEnd());
            if (i == 0) sb.AppendLine(string.Join("  ", w.Select(x => new string('-', x))));
        }
        return sb.ToString();
    }
}
