using System.Diagnostics;
using System.Security.Cryptography;

namespace RestoreTools.Tests.Unit.Fuzz;

/// <summary>One problem found: its kind, a signature that groups repeats, and the saved input.</summary>
public sealed record FuzzFinding(string Kind, string Signature, string Message, byte[] Input, string? SavedAs);

public sealed class FuzzStats
{
    public long Inputs;
    public long Crashes, Hangs, BigAllocations, Masked, BadResults;
    public TimeSpan Elapsed;
    public long MaxAllocated;
    public TimeSpan Slowest;
    public List<FuzzFinding> Findings { get; } = [];

    public double PerSecond => Elapsed.TotalSeconds > 0 ? Inputs / Elapsed.TotalSeconds : 0;
    public bool Failed => Crashes + Hangs + BigAllocations + BadResults > 0;

    public string Summary() =>
        $"fuzz: {Inputs} inputs in {Elapsed.TotalSeconds:F1} s ({PerSecond:F0}/s), crashes {Crashes}, hangs {Hangs}, " +
        $"allocations over limit {BigAllocations}, bad partition extents {BadResults}, masked probe exceptions {Masked}; " +
        $"slowest input {Slowest.TotalMilliseconds:F0} ms, most allocated {MaxAllocated / 1024} KiB";
}

/// <summary>
/// The random-mutation loop shared by the xunit run and the long run: every seed as is, then mutants
/// of randomly chosen seeds. Crash = an exception the engine would not catch; hang = one input over
/// the time limit; big allocation = more than the limit allocated by one input. Each new kind of
/// finding is saved to <c>findingsDir</c>. A watchdog saves an input that never returns.
/// </summary>
public sealed class FuzzRunner(IReadOnlyList<FuzzDisk> corpus, int seed, string? findingsDir)
{
    public TimeSpan HangLimit { get; init; } = TimeSpan.FromSeconds(2);
    public long AllocationLimit { get; init; } = 256L * 1024 * 1024;

    /// <summary>Called by the watchdog when an input has been running for 5 times the hang limit (it will not come back).</summary>
    public Action<FuzzFinding>? OnStuck { get; init; }

    private long _startedTicks;      // Stopwatch ticks when the current input began, 0 between inputs
    private byte[] _current = [];
    private byte[] _slowest = [];

    public FuzzStats Run(long maxInputs, TimeSpan duration, Action<string>? progress = null)
    {
        var stats = new FuzzStats();
        var rng = new Random(seed);
        var mutator = new FuzzMutator(rng, corpus);
        var signatures = new HashSet<string>();
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        using var stop = new CancellationTokenSource();
        var watchdog = new Thread(() => Watch(stats, stop.Token)) { IsBackground = true, Name = "fuzz watchdog" };
        watchdog.Start();
        try
        {
            for (long i = 0; i < maxInputs && clock.Elapsed < duration; i++)
            {
                var disk = i < corpus.Count ? corpus[(int)i] : mutator.Mutate(corpus[rng.Next(corpus.Count)]);
                byte[] input = disk.Encode();
                RunOne(input, stats, signatures);
                if (progress is not null && clock.Elapsed - lastReport > TimeSpan.FromSeconds(10))
                {
                    lastReport = clock.Elapsed;
                    stats.Elapsed = clock.Elapsed;
                    progress(stats.Summary());
                }
            }
        }
        finally
        {
            stop.Cancel();
            stats.Elapsed = clock.Elapsed;
        }
        // Not a finding below the hang limit, but the input to look at first when it grows.
        if (findingsDir is not null && _slowest.Length > 0)
        {
            Directory.CreateDirectory(findingsDir);
            File.WriteAllBytes(Path.Combine(findingsDir, "slowest.bin"), _slowest);
        }
        return stats;
    }

    private void RunOne(byte[] input, FuzzStats stats, HashSet<string> signatures)
    {
        // Decoded from the bytes that get saved, so a saved input replays exactly.
        var reader = FuzzDisk.Decode(input).Reader();
        Volatile.Write(ref _current, input);
        long before = GC.GetAllocatedBytesForCurrentThread();
        long t0 = Stopwatch.GetTimestamp();
        Volatile.Write(ref _startedTicks, t0);
        FuzzOutcome outcome;
        try
        {
            outcome = FuzzTarget.Run(reader);
        }
        catch (OutOfMemoryException e)
        {
            outcome = new FuzzOutcome(FuzzVerdict.Crash, e, "allocation");
        }
        finally
        {
            Volatile.Write(ref _startedTicks, 0);
        }
        var took = Stopwatch.GetElapsedTime(t0);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        stats.Inputs++;
        stats.MaxAllocated = Math.Max(stats.MaxAllocated, allocated);
        if (took > stats.Slowest)
        {
            stats.Slowest = took;
            _slowest = input;
        }

        switch (outcome.Verdict)
        {
            case FuzzVerdict.Crash: stats.Crashes++; break;
            case FuzzVerdict.Masked: stats.Masked++; break;
            case FuzzVerdict.BadResult: stats.BadResults++; break;
        }
        if (outcome.Verdict != FuzzVerdict.Clean)
            Record(stats, signatures, outcome.Verdict.ToString().ToLowerInvariant(), Signature(outcome), Describe(outcome), input);
        if (took > HangLimit)
        {
            stats.Hangs++;
            Record(stats, signatures, "hang", "hang", $"one input took {took.TotalSeconds:F1} s", input);
        }
        if (allocated > AllocationLimit)
        {
            stats.BigAllocations++;
            Record(stats, signatures, "alloc", "alloc", $"one input allocated {allocated / (1024 * 1024)} MiB", input);
        }
    }

    private static string Signature(FuzzOutcome o)
    {
        var frame = o.Error is null ? null : new StackTrace(o.Error, false).GetFrames()
            .Select(f => f.GetMethod()).FirstOrDefault(m => m?.DeclaringType?.Namespace?.StartsWith("RestoreTools.Engine", StringComparison.Ordinal) == true);
        return $"{o.Verdict}:{o.Error?.GetType().Name}:{frame?.DeclaringType?.Name}.{frame?.Name}:{(o.Verdict == FuzzVerdict.BadResult ? "" : o.Where?.Split(' ')[0])}";
    }

    private static string Describe(FuzzOutcome o) =>
        $"{o.Verdict} in {o.Where}: {o.Error?.GetType().FullName}: {o.Error?.Message}\n{o.Error?.StackTrace}";

    private void Record(FuzzStats stats, HashSet<string> signatures, string kind, string signature, string message, byte[] input)
    {
        lock (signatures)
        {
            if (!signatures.Add(signature)) return;
            string? saved = Save(kind, input, message);
            stats.Findings.Add(new FuzzFinding(kind, signature, message, input, saved));
        }
    }

    private string? Save(string kind, byte[] input, string message)
    {
        if (findingsDir is null) return null;
        Directory.CreateDirectory(findingsDir);
        string name = $"{kind}-{Convert.ToHexStringLower(SHA256.HashData(input))[..16]}";
        string path = Path.Combine(findingsDir, name + ".bin");
        File.WriteAllBytes(path, input);
        File.WriteAllText(Path.Combine(findingsDir, name + ".txt"), message + "\n");
        return path;
    }

    private void Watch(FuzzStats stats, CancellationToken stop)
    {
        long reportedFor = 0;
        while (!stop.WaitHandle.WaitOne(100))
        {
            long started = Volatile.Read(ref _startedTicks);
            if (started == 0 || started == reportedFor) continue;
            var running = Stopwatch.GetElapsedTime(started);
            if (running < HangLimit * 5) continue;
            reportedFor = started;
            byte[] input = Volatile.Read(ref _current);
            string message = $"one input has been running for {running.TotalSeconds:F0} s and does not return";
            var finding = new FuzzFinding("hang", "stuck", message, input, Save("hang", input, message));
            OnStuck?.Invoke(finding);
        }
    }
}
