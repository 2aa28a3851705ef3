using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using RestoreTools.Tests.Unit.Support;
using Xunit.Abstractions;

namespace RestoreTools.Tests.Unit.Agent;

/// <summary>
/// A host agent facing hostile callers and hard ends, each with real agent processes of its own:
/// a FIFO given as an image, paths outside --image-root, 64 clients dribbling their headers, and
/// SIGKILL with an image attached and a bucket mounted.
/// </summary>
public sealed class AgentSafetyTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestImages _images = new();

    public void Dispose() => _images.Dispose();

    private const string LinuxFs = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";

    private string GptImage(string name)
    {
        var p1 = _images.FileSystem("ext4", 16, "one", _images.Tree("p1-" + name, ("one.txt", "partition one\n")));
        return _images.Disk(name + ".img", 24, $"label: gpt\nsize=16MiB, type={LinuxFs}\n", (1, p1));
    }

    /// <summary>One request on a fresh connection, with a 10 s limit on the answer; "" when it fails.</summary>
    private static string Get(AgentProcess agent, string pathAndQuery, string? token, string method = "GET")
    {
        try
        {
            using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 10_000, SendTimeout = 10_000 };
            s.Connect(new UnixDomainSocketEndPoint(agent.Socket));
            string auth = token is null ? "" : $"Authorization: Bearer {token}\r\n";
            s.Send(Encoding.ASCII.GetBytes($"{method} {pathAndQuery} HTTP/1.1\r\nHost: agent\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"));
            using var ns = new NetworkStream(s);
            return new StreamReader(ns).ReadToEnd();
        }
        catch (Exception e) when (e is SocketException or IOException) { return ""; }
    }

    [Fact]
    public async Task AFifoGivenAsAnImageIsRefusedAndOtherRequestsGoOn()
    {
        using var agent = AgentProcess.Start(aot: false, token: true, "--image", "g=" + GptImage("g"));
        string fifo = Path.Combine(_images.Dir, "fifo");
        Shell.Run($"mkfifo '{fifo}'");
        using var http = agent.Http();
        http.Timeout = TimeSpan.FromSeconds(20);

        // The FIFO attach and other disk requests at the same time: before, the open waited for a
        // writer with the attachments' lock held, and every disk request waited with it.
        var attach = http.GetJson($"images?path={Uri.EscapeDataString(fifo)}&name=f", HttpMethod.Post);
        var others = Enumerable.Range(0, 5).Select(_ => http.GetJson("disks")).ToList();
        var (status, error) = await attach;
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("NotAFile", error.Code());
        Assert.Contains("FIFO", error.GetProperty("message").GetString());
        foreach (var o in others)
        {
            var (s, disks) = await o;
            Assert.Equal(HttpStatusCode.OK, s);
            Assert.Equal("g", Assert.Single(disks.EnumerateArray()).GetProperty("name").GetString());
        }

        var (s2, devNull) = await http.GetJson("images?path=/dev/null&name=n", HttpMethod.Post);
        Assert.Equal(HttpStatusCode.BadRequest, s2);
        Assert.Contains("character device", devNull.GetProperty("message").GetString());
        var (s3, _) = await http.GetJson($"images?path={Uri.EscapeDataString(GptImage("h"))}&name=h", HttpMethod.Post);
        Assert.Equal(HttpStatusCode.Created, s3);
    }

    [Fact]
    public async Task ImageRootRefusesPathsOutsideItAndSymlinksLeadingOut()
    {
        string root = Path.Combine(_images.Dir, "root");
        Directory.CreateDirectory(root);
        string inside = Path.Combine(root, "in.img");
        File.Move(GptImage("in"), inside);
        string outside = GptImage("out");
        File.CreateSymbolicLink(Path.Combine(root, "link.img"), outside);

        using var agent = AgentProcess.Start(aot: false, token: true, "--image-root", root);
        using var http = agent.Http();
        async Task<(HttpStatusCode, JsonElement)> Attach(string path, string name) =>
            await http.GetJson($"images?path={Uri.EscapeDataString(path)}&name={name}", HttpMethod.Post);

        var (s1, e1) = await Attach(outside, "a");
        Assert.Equal(HttpStatusCode.BadRequest, s1);
        Assert.Contains("outside the image root", e1.GetProperty("message").GetString());
        var (s2, e2) = await Attach("../" + Path.GetFileName(outside), "b");
        Assert.Equal(HttpStatusCode.BadRequest, s2);
        Assert.Equal("InvalidPath", e2.Code());
        var (s3, e3) = await Attach(Path.Combine(root, "link.img"), "c");
        Assert.Equal(HttpStatusCode.BadRequest, s3);
        Assert.Contains("symlink", e3.GetProperty("message").GetString());
        using (var client = agent.Client()) Assert.Equal(0, client.GetStatus().Disks);

        var (s4, disk) = await Attach("in.img", "in");
        Assert.Equal(HttpStatusCode.Created, s4);
        Assert.Equal(inside, disk.GetProperty("imagePath").GetString());
        Assert.Contains("--image-root", Shell.Run($"dotnet '{AgentBinaries.Dll}' --help"));
    }

    /// <summary>A client that sends a request line, then one header line every 2 s, never ending its headers.</summary>
    private static async Task<bool> Dribble(string socket, CancellationToken stop)
    {
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), stop);
            await s.SendAsync(Encoding.ASCII.GetBytes("GET /api/v1/status HTTP/1.1\r\nHost: slow\r\n"), stop);
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                await Task.Delay(2000, stop);
                if (s.Poll(0, SelectMode.SelectRead)) return true;   // an answer (408) or the end: the agent cut it
                await s.SendAsync(Encoding.ASCII.GetBytes($"X-Slow-{i}: y\r\n"), stop);
            }
        }
        catch (OperationCanceledException) { }
        catch (SocketException) { return true; }
        return false;
    }

    /// <summary>Normal requests with the token, one every 250 ms for the given time: (served, failed, slowest).</summary>
    private static (int Ok, List<string> Failed, double MaxSeconds) Normal(AgentProcess agent, TimeSpan during)
    {
        int ok = 0;
        var failed = new List<string>();
        double max = 0;
        var end = DateTime.UtcNow + during;
        while (DateTime.UtcNow < end)
        {
            var sw = Stopwatch.StartNew();
            string answer = Get(agent, "/api/v1/disks", agent.Token);
            max = Math.Max(max, sw.Elapsed.TotalSeconds);
            if (answer.StartsWith("HTTP/1.1 200")) ok++;
            else failed.Add(answer.Length == 0 ? "(no answer)" : answer.Split('\r')[0]);
            Thread.Sleep(250);
        }
        return (ok, failed, max);
    }

    [Fact]
    public async Task SixtyFourSlowClientsDoNotLockOutNormalRequests()
    {
        using var agent = AgentProcess.Start(aot: false, token: true);
        using var stop = new CancellationTokenSource();
        var slow = Enumerable.Range(0, 64).Select(_ => Dribble(agent.Socket, stop.Token)).ToList();
        await Task.Delay(1000);

        // Longer than the 10 s header timeout: the slow ones are cut meanwhile.
        var (ok, failed, max) = await Task.Run(() => Normal(agent, TimeSpan.FromSeconds(14)));
        await Task.WhenAny(Task.WhenAll(slow), Task.Delay(TimeSpan.FromSeconds(20)));
        int cut = slow.Count(t => t.IsCompletedSuccessfully && t.Result);
        stop.Cancel();
        output.WriteLine($"64 slow clients: {ok} normal requests served, {failed.Count} failed, slowest {max:0.000} s; {cut} of 64 slow clients cut by the agent");
        Assert.Empty(failed);
        Assert.True(ok > 10, $"{ok}");
        Assert.Equal(64, cut);
    }

    [Fact]
    public async Task WithEveryPlaceTakenNewcomersAndStatusStillGetIn()
    {
        // 16 places, 64 slow clients, and the one download slot held by a stalled reader: a newcomer
        // takes a slow client's place; the running download (authenticated, busy) keeps its own.
        string tree = _images.Tree("big");
        Shell.Run($"head -c {8 << 20} /dev/urandom > '{tree}/big.bin'");
        var img = _images.FileSystem("ext4", 32, "big", tree);
        using var agent = AgentProcess.Start(aot: false, token: true, "--max-connections", "16", "--max-downloads", "1", "--image", "d=" + img);

        using var download = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        download.Connect(new UnixDomainSocketEndPoint(agent.Socket));
        download.Send(Encoding.ASCII.GetBytes($"GET /api/v1/content?path=/d/raw/big.bin HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {agent.Token}\r\n\r\n"));
        var buffer = new byte[65536];
        int got = 0;
        while (got < buffer.Length) got += download.Receive(buffer, got, buffer.Length - got, SocketFlags.None);

        using var stop = new CancellationTokenSource();
        var slow = Enumerable.Range(0, 64).Select(_ => Dribble(agent.Socket, stop.Token)).ToList();
        await Task.Delay(1000);

        var (ok, failed, max) = await Task.Run(() => Normal(agent, TimeSpan.FromSeconds(4)));
        string status = Get(agent, "/api/v1/status", agent.Token);
        stop.Cancel();
        output.WriteLine($"16 places, 64 slow clients, download slot taken: {ok} normal requests served, {failed.Count} failed, slowest {max:0.000} s");
        Assert.Empty(failed);
        Assert.StartsWith("HTTP/1.1 200", status);
        Assert.Contains("\"activeDownloads\":1", status);

        // The stalled download was never dropped: it still reads to its end.
        long total = got;
        download.ReceiveTimeout = 10_000;
        int n;
        try { while (total < (8 << 20) && (n = download.Receive(buffer)) > 0) total += n; }
        catch (SocketException e) { output.WriteLine($"after {total} bytes: {e.Message}"); }
        Assert.True(total >= 8 << 20, $"{total} bytes; {agent.Stderr}");
    }

    [Fact]
    public void AfterSigkillANewAgentCleansWhatTheOldOneLeft()
    {
        string img = GptImage("k");
        using var first = AgentProcess.Start(aot: false, token: true, "--image", "k=" + img);
        using var firstClient = first.Client();
        var disk = firstClient.GetDisks().Single();
        string mountPoint = firstClient.Mount("/k/part/1").MountPoint!;
        Assert.Equal("partition one\n", File.ReadAllText(Path.Combine(mountPoint, "one.txt")));

        first.Process.Kill();   // SIGKILL: no clean-up of its own
        Assert.True(first.WaitForExit(TimeSpan.FromSeconds(10)));
        bool mountedAfterKill = Mounted(mountPoint), boundAfterKill = BoundTo(disk.KernelName, img);
        output.WriteLine($"after SIGKILL: mount {(mountedAfterKill ? "left" : "gone")}, {disk.KernelName} {(boundAfterKill ? "still bound (the mount holds it)" : "free")}");
        Assert.True(mountedAfterKill);

        using var second = AgentProcess.Start(aot: false, token: true, "--state-dir", first.StateDir);
        Assert.False(Mounted(mountPoint));
        // Unbound at the last close (autoclear): a test beside this one may hold the device open a moment.
        Assert.True(SpinWait.SpinUntil(() => !BoundTo(disk.KernelName, img), TimeSpan.FromSeconds(10)), $"{disk.KernelName} still bound");
        if (!File.Exists($"/sys/block/{disk.KernelName}/loop/backing_file"))   // still free: its BLKPG partition went too
            Assert.Empty(Directory.EnumerateDirectories($"/sys/block/{disk.KernelName}", disk.KernelName + "p*"));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(first.StateDir, "mnt")));
        // The orphan record went; the second agent makes its own at its first attach or mount.
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(first.StateDir, "owners")));
        // The agent's log comes through a pipe read in the background: give it a moment to arrive.
        for (int i = 0; i < 50 && !second.Stderr.Contains("cleaned up after an earlier process", StringComparison.Ordinal); i++) Thread.Sleep(100);
        Assert.Contains("cleaned up after an earlier process: 1 mounts", second.Stderr);
        output.WriteLine($"after a new agent on the same state folder: mount gone, {disk.KernelName} free, no folders left");

        // The image attaches again as if nothing had happened.
        using var client = second.Client();
        client.AttachImage(img, "k");
        Assert.Equal("partition one\n", File.ReadAllText(Path.Combine(client.Mount("/k/part/1").MountPoint!, "one.txt")));
    }

    [Fact]
    public void ALoopDeviceIsFreedByTheKernelWhenItsAgentIsKilled()
    {
        string img = GptImage("free");
        using var agent = AgentProcess.Start(aot: false, token: true, "--image", "f=" + img);
        using var client = agent.Client();
        string kernel = client.GetDisks().Single().KernelName;
        Assert.True(BoundTo(kernel, img));
        agent.Process.Kill();
        Assert.True(agent.WaitForExit(TimeSpan.FromSeconds(10)));
        // Nothing mounted from it: autoclear frees it at the process's last close, no restart needed.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (BoundTo(kernel, img) && DateTime.UtcNow < deadline) Thread.Sleep(50);
        Assert.False(BoundTo(kernel, img));
    }

    private static bool Mounted(string mountPoint) =>
        File.ReadLines("/proc/self/mountinfo").Any(l => l.Split(' ')[4] == mountPoint);

    private static bool BoundTo(string kernel, string image)
    {
        try { return File.ReadAllText($"/sys/block/{kernel}/loop/backing_file").Trim() == image; }
        catch (IOException) { return false; }
    }
}
