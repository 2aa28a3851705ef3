using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using RestoreTools.Contract;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Agent;

/// <summary>
/// The agent binaries under test: the JIT build (dotnet restore-agent.dll), built once per run,
/// and the NativeAOT static executable, published once per run when missing or older than the sources.
/// </summary>
public static class AgentBinaries
{
    private static readonly Lazy<string> _dll = new(BuildDll);
    private static readonly Lazy<string> _aot = new(PublishAot);

    public static string RepoRoot { get; } = FindRoot();

    public static string Dll => _dll.Value;
    public static string Aot => _aot.Value;

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "RestoreTools.slnx"))) return d.FullName;
        throw new InvalidOperationException("RestoreTools.slnx not found above " + AppContext.BaseDirectory);
    }

    private static string BuildDll()
    {
        Shell.Run($"cd '{RepoRoot}' && dotnet build src/Agent/RestoreTools.Agent.csproj -c Debug -v q --nologo 2>&1 | tail -3");
        return Path.Combine(RepoRoot, "src/Agent/bin/Debug/net10.0/linux-x64/restore-agent.dll");
    }

    private static string PublishAot()
    {
        string exe = Path.Combine(RepoRoot, "out/agent/restore-agent");
        var newest = new[] { "src/Agent", "src/Contract", "src/Engine" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(RepoRoot, d), "*.*", SearchOption.AllDirectories))
            .Where(f => (f.EndsWith(".cs") || f.EndsWith(".csproj")) && !f.Contains("/obj/") && !f.Contains("/bin/"))
            .Max(File.GetLastWriteTimeUtc);
        if (!File.Exists(exe) || File.GetLastWriteTimeUtc(exe) < newest)
            Shell.Run($"cd '{RepoRoot}' && dotnet publish src/Agent -c Release -r linux-x64 -p:StaticExecutable=true -p:PositionIndependentExecutable=false -o out/agent -v q --nologo 2>&1 | grep -E ' error |rror:' || true");
        if (!File.Exists(exe)) throw new InvalidOperationException("the AOT publish made no " + exe);
        return exe;
    }
}

/// <summary>
/// One restore-agent process on a Unix socket in a temp folder. Dispose stops it (SIGTERM, then
/// SIGKILL), cleans up any mount or loop device it left, and removes the folder.
/// </summary>
public sealed class AgentProcess : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("rt-agent-").FullName;
    public string Socket => Path.Combine(Dir, "agent.sock");
    public string TokenFile => Path.Combine(Dir, "token");
    public string StateDir => Path.Combine(Dir, "state");
    public Process Process { get; private set; } = null!;
    public TimeSpan StartToFirstAnswer { get; private set; }
    private readonly StringBuilder _stderr = new();

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    public string? Token => File.Exists(TokenFile) ? File.ReadAllText(TokenFile).Trim() : null;

    /// <summary>Starts the agent and waits for its liveness answer.</summary>
    public static AgentProcess Start(bool aot = false, bool token = true, params string[] args)
    {
        var agent = new AgentProcess();
        try
        {
            agent.Launch(aot, token, args);
            return agent;
        }
        catch
        {
            agent.Dispose();
            throw;
        }
    }

    private void Launch(bool aot, bool token, string[] args)
    {
        var all = new List<string> { "--listen", "unix:" + Socket, "--state-dir", StateDir };
        if (token) all.AddRange(["--token-file", TokenFile]);
        all.AddRange(args);
        var psi = aot ? new ProcessStartInfo(AgentBinaries.Aot) : new ProcessStartInfo("dotnet") { ArgumentList = { AgentBinaries.Dll } };
        foreach (var a in all) psi.ArgumentList.Add(a);
        psi.RedirectStandardError = true;
        psi.RedirectStandardOutput = true;
        // A small gen0 budget, as in a small VM: peak memory then shows what the agent holds, not uncollected garbage.
        psi.Environment["DOTNET_GCgen0size"] = "400000";
        var sw = Stopwatch.StartNew();
        Process = Process.Start(psi)!;
        Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        Process.OutputDataReceived += (_, _) => { };
        Process.BeginErrorReadLine();
        Process.BeginOutputReadLine();
        while (true)
        {
            if (Process.HasExited)
                throw new InvalidOperationException($"the agent exited with {Process.ExitCode}: {Stderr}");
            if (sw.Elapsed > TimeSpan.FromSeconds(60))
                throw new TimeoutException("the agent did not answer within 60 s: " + Stderr);
            if (File.Exists(Socket) && RawGet("/api/v1/status", null).StartsWith("HTTP/1.1 200"))
                break;
            Thread.Sleep(5);
        }
        StartToFirstAnswer = sw.Elapsed;
    }

    /// <summary>One request on a fresh connection, answer as text ("" when the connection fails).</summary>
    public string RawGet(string pathAndQuery, string? token)
    {
        try
        {
            using var s = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            s.Connect(new UnixDomainSocketEndPoint(Socket));
            string auth = token is null ? "" : $"Authorization: Bearer {token}\r\n";
            s.Send(Encoding.ASCII.GetBytes($"GET {pathAndQuery} HTTP/1.1\r\nHost: agent\r\n{auth}Connection: close\r\n\r\n"));
            using var ns = new NetworkStream(s);
            using var reader = new StreamReader(ns);
            return reader.ReadToEnd();
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return "";
        }
    }

    /// <summary>An HttpClient on the socket; token: the agent's token unless another is given ("" for none).</summary>
    public HttpClient Http(string? token = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await s.ConnectAsync(new UnixDomainSocketEndPoint(Socket), ct);
                return new NetworkStream(s, ownsSocket: true);
            },
        };
        var http = new HttpClient(handler) { BaseAddress = new Uri("http://agent/api/v1/"), Timeout = TimeSpan.FromSeconds(120) };
        token ??= Token;
        if (!string.IsNullOrEmpty(token))
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    public AgentClient Client() => new("unix:" + Socket, Token);

    /// <summary>
    /// Waits for the agent to end and then for its stderr to be read to the end: a timed
    /// WaitForExit returns at the exit, before the last lines (its "idle" farewell) reach Stderr.
    /// </summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!Process.WaitForExit(timeout)) return false;
        Process.WaitForExit(); // without a timeout it also waits for the redirected streams' EOF
        return true;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    public void Dispose()
    {
        try
        {
            if (Process is { HasExited: false })
            {
                kill(Process.Id, 15);
                if (!Process.WaitForExit(TimeSpan.FromSeconds(10))) { Process.Kill(entireProcessTree: true); Process.WaitForExit(); }
            }
        }
        catch (InvalidOperationException) { }
        Process?.Dispose();
        // Whatever a killed agent left: mounts below the state folder, loop devices of our files.
        foreach (var line in File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]).Where(m => m.StartsWith(Dir, StringComparison.Ordinal)).Reverse().ToList())
            try { Shell.Run($"umount -l '{line}'"); } catch (InvalidOperationException) { }
        bool mounted = File.ReadLines("/proc/self/mountinfo").Any(l => l.Split(' ')[4].StartsWith(Dir, StringComparison.Ordinal));
        if (!mounted) try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
