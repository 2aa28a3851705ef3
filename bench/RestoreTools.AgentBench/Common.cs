using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace RestoreTools.AgentBench;

/// <summary>bash commands: timed pipelines of the reference tools, and small queries.</summary>
internal static class Sh
{
    public static string Q(string s) => "'" + s.Replace("'", "'\\''") + "'";

    /// <summary>Wall time of a bash command (process starts included, a few ms on both sides).</summary>
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
        try { return Run(command).Trim(); } catch (InvalidOperationException) { return "?"; }
    }

    public static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    public static string Header(string title, string repoDir) =>
        $"{title}  {DateTime.Now:yyyy-MM-dd HH:mm}  commit {Out("git -C " + Q(repoDir) + " rev-parse --short HEAD")}\n" +
        $"machine: nproc {Environment.ProcessorCount}, kernel {Out("uname -r")}, {Out("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2")}, " +
        $"RAM {Out("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")}, .NET {Environment.Version}\n";
}

internal static class Stats
{
    public static double Median(IEnumerable<double> values) => Percentile(values, 50);

    /// <summary>Nearest-rank percentile.</summary>
    public static double Percentile(IEnumerable<double> values, double p)
    {
        var a = values.OrderBy(v => v).ToArray();
        if (a.Length == 0) return double.NaN;
        int rank = (int)Math.Ceiling(p / 100 * a.Length);
        return a[Math.Clamp(rank - 1, 0, a.Length - 1)];
    }

    public static string List(IEnumerable<double> values, string format = "F2") =>
        string.Join(" ", values.Select(v => v.ToString(format, CultureInfo.InvariantCulture)));
}

/// <summary>/proc/PID figures.</summary>
internal static class Proc
{
    public static long StatusKiB(int pid, string key)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
                return long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0]);
        throw new InvalidOperationException($"{key} not in /proc/{pid}/status");
    }

    /// <summary>
    /// CPU seconds of qemu's main thread (tid = pid: the main loop with slirp's TCP/IP and the virtio
    /// backends) and of its other threads (vCPU threads under TCG, I/O workers). qemu names its threads
    /// only with -name debug-threads=on, which RestoreVmManager does not pass.
    /// </summary>
    public static Dictionary<string, double> ThreadCpu(int pid)
    {
        var d = new Dictionary<string, double>();
        try
        {
            foreach (var t in Directory.GetDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    string stat = File.ReadAllText(Path.Combine(t, "stat"));
                    int close = stat.LastIndexOf(')');
                    var f = stat[(close + 2)..].Split(' ');
                    string name = Path.GetFileName(t) == pid.ToString() ? "main thread" : "other threads";
                    d[name] = d.GetValueOrDefault(name) + (long.Parse(f[11]) + long.Parse(f[12])) / ClockTicks;
                }
                catch (IOException) { }
            }
        }
        catch (IOException) { }
        return d;
    }

    public static Dictionary<string, double> Minus(Dictionary<string, double> a, Dictionary<string, double> b) =>
        a.ToDictionary(kv => kv.Key, kv => kv.Value - b.GetValueOrDefault(kv.Key));

    public static string Format(Dictionary<string, double> d) =>
        string.Join(", ", d.Where(kv => kv.Value >= 0.005).OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value:F2}"));

    private static readonly double ClockTicks = double.Parse(Sh.Out("getconf CLK_TCK"), CultureInfo.InvariantCulture);

    /// <summary>user + system CPU seconds of a process (its threads included).</summary>
    public static double CpuSeconds(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(f[11]) + long.Parse(f[12])) / ClockTicks;   // fields 14 and 15
        }
        catch (IOException) { return double.NaN; }
    }
}

/// <summary>The results table: figure, value, reference, ratio, goal, result, note.</summary>
internal sealed class Table
{
    private readonly List<string[]> _rows = [];

    /// <summary>A timed comparison: ratio = value / reference, judged against goal when given.</summary>
    public void Ratio(string figure, double value, double reference, double? goal, string unit = "s", string? note = null, bool informational = false)
    {
        double ratio = value / reference;
        string result = goal is null ? "info" : (ratio <= goal ? "PASS" : "MISS") + (informational ? " (info)" : "");
        _rows.Add([figure, Fmt(value, unit), Fmt(reference, unit), $"{ratio:F2}", goal is null ? "-" : $"ratio <= {goal:0.0#}", result, note ?? ""]);
    }

    public void Info(string figure, string value, string? note = null) => _rows.Add([figure, value, "-", "-", "-", "info", note ?? ""]);

    public void Goal(string figure, string value, string goal, bool pass, string? note = null) =>
        _rows.Add([figure, value, "-", "-", goal, pass ? "PASS" : "MISS", note ?? ""]);

    public static string Fmt(double v, string unit) => unit switch
    {
        "s" => $"{v:F3} s",
        "ms" => $"{v:F1} ms",
        "us" => $"{v:F0} us",
        _ => $"{v:F2} {unit}",
    };

    public string Render()
    {
        string[] head = ["figure", "value", "reference", "ratio", "goal", "result", "note"];
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
