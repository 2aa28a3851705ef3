using RestoreTools.Engine;

namespace RestoreTools.Tests.Unit.Support;

/// <summary>An engine whose nodes and mounts live in a temp folder; disposing detaches and unmounts everything.</summary>
public sealed class TestEngine : IDisposable
{
    public string StateDir { get; } = Directory.CreateTempSubdirectory("rt-state-").FullName;
    public List<string> Warnings { get; } = [];
    public RestoreEngine Engine { get; }

    public TestEngine(string? sysRoot = null)
    {
        Engine = new RestoreEngine(new EngineOptions
        {
            SysRoot = sysRoot ?? "/sys",
            ScanVirtio = sysRoot is not null,
            NodeDir = Path.Combine(StateDir, "dev"),
            MountRoot = Path.Combine(StateDir, "mnt"),
            Warning = w => { lock (Warnings) Warnings.Add(w); },
        });
    }

    public void Dispose()
    {
        Engine.Dispose();
        // Never recurse into a folder that still has a mount below it.
        bool mounted = File.ReadLines("/proc/self/mountinfo").Any(l => l.Split(' ')[4].StartsWith(StateDir, StringComparison.Ordinal));
        if (!mounted) try { Directory.Delete(StateDir, recursive: true); } catch (IOException) { }
    }
}
