using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using RestoreTools.Agent.Auth;
using RestoreTools.Agent.Endpoints;
using RestoreTools.Agent.Http;
using RestoreTools.Engine;

namespace RestoreTools.Agent;

/// <summary>
/// Runs the agent: engine, Kestrel on the listeners, the middleware (log, idle, errors, auth) and
/// the endpoints, until stop, idle timeout or SIGTERM/SIGINT; then the engine unmounts and detaches.
/// Kestrel is used bare, without the generic host, DI, configuration or routing: under TCG in the
/// restore VM those took 2.5 s of start-up (138 M instructions against 10 M for bare Kestrel).
/// </summary>
public static class AgentHost
{
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    public static int Run(AgentOptions options)
    {
        var log = new AgentLog("RestoreTools.Agent");
        TokenAuth auth;
        bool generated = false;
        try
        {
            auth = options.TokenFile is null ? TokenAuth.Disabled
                : options.TokenAtFirstRequest ? TokenAuth.AtFirstRequest(options.TokenFile)
                : TokenAuth.FromFile(options.TokenFile, out generated);
        }
        catch (Exception ex) when (ex is UsageException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"restore-agent: {ex.Message}");
            return 1;
        }

        var engineOptions = new EngineOptions
        {
            NodeDir = Path.Combine(options.StateDir, "dev"),
            MountRoot = Path.Combine(options.StateDir, "mnt"),
            ScanVirtio = options.RestoreVm ?? File.Exists(EngineOptions.RestoreVmMarker),
            ImageRoot = options.ImageRoot,
            Warning = w => log.Warn("engine: " + w),
        };
        using var stopping = new CancellationTokenSource();
        void Stop() { try { stopping.Cancel(); } catch (ObjectDisposedException) { } }

        using var engine = new RestoreEngine(engineOptions);
        using var watchdog = new IdleWatchdog(options.IdleTimeout, () =>
        {
            log.Info($"idle for {options.IdleTimeout!.Value.TotalSeconds} s: exiting");
            Stop();
        });
        var services = new AgentServices(engine, engineOptions, options, new DownloadLimiter(options.MaxDownloads), watchdog, log, Stop);

        if (generated) log.Info($"generated a token in {options.TokenFile}");
        if (!auth.Enabled && options.Listen.Any(l => l.Kind != ListenKind.Unix))
            log.Warn("no --token-file: anyone who can connect may use this agent");

        try
        {
            foreach (var (name, path) in options.Images)
            {
                if (engineOptions.ScanVirtio)
                    throw new RestoreException(RestoreErrorCode.NotSupported, "--image is for a host run: inside a restore VM the disks are virtio disks");
                var disk = engine.AttachImage(path, name);
                log.Info($"attached {path} as {disk.Name} on {disk.Device}");
            }
        }
        catch (RestoreException ex)
        {
            log.Error(ex.Message);
            return 1;
        }

        if (options.ImageRoot is not null && !Directory.Exists(options.ImageRoot))
        {
            log.Error($"--image-root {options.ImageRoot}: no such folder");
            return 1;
        }
        // Engine calls block a thread (a mount, a large folder): enough threads at once that one
        // slow call never delays the others by the thread pool's slow growth.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), io);
        var guard = new ConnectionGuard(options.MaxConnections);

        var router = new Router();
        StatusEndpoints.Map(router, services);
        BrowseEndpoints.Map(router, services);
        ListEndpoint.Map(router, services);
        ContentEndpoint.Map(router, services);
        ExtractEndpoint.Map(router, services);
        ImageEndpoints.Map(router, services);

        // Outermost first: the log sees every answer, the watchdog every request, errors become JSON before auth.
        RequestDelegate pipeline = router.Dispatch;
        pipeline = guard.Requests(pipeline);
        pipeline = auth.Middleware(pipeline);
        pipeline = ErrorMapping.Middleware(pipeline, log);
        pipeline = watchdog.Middleware(pipeline);
        pipeline = RequestLog.Middleware(pipeline, log.For("RestoreTools.Agent.Request"));

        var kestrelLogs = new KestrelLogs(options.Verbose ? LogLevel.Information : LogLevel.Warning);
        var kestrel = new KestrelServerOptions
        {
            AddServerHeader = false,
            // Kestrel asks it only for optional services (none here).
            ApplicationServices = NoServices.Instance,
        };
        // The connection cap is the guard's (it makes room by dropping unproven connections); Kestrel's
        // own would only turn newcomers away once slow clients hold every place.
        kestrel.Limits.MaxConcurrentConnections = null;
        kestrel.Limits.MaxRequestBodySize = 64 * 1024;
        // A client has 10 s from its first byte to its last header line (Kestrel's default is 30 s),
        // then 60 s of silence between requests; bodies and answers must move at 240 B/s after 5 s.
        kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
        kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(60);
        kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(240, TimeSpan.FromSeconds(5));
        kestrel.Limits.MinResponseDataRate = new MinDataRate(240, TimeSpan.FromSeconds(5));

        int exitCode = 0;
        KestrelServer? server = null;
        // SIGTERM (qemu shutdown, systemd, the tests) and Ctrl-C stop the agent cleanly: the engine unmounts and detaches.
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; Stop(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; Stop(); });
        try
        {
            Listeners.Configure(kestrel, options, guard);
            server = new KestrelServer(Options.Create(kestrel), Listeners.Transport(options, kestrelLogs, log), kestrelLogs);
            server.StartAsync(new AgentApplication(pipeline), CancellationToken.None).GetAwaiter().GetResult();
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            // RestoreVmManager watches the VM console for " listening on " to know when to ask.
            log.Info($"restore-agent {StatusEndpoints.Version} listening on {string.Join(", ", addresses)} "
                + $"({(engineOptions.ScanVirtio ? "restore VM" : "host")}, {engine.GetDisks().Count} disks, token {(auth.Enabled ? "required" : "off")})");
            stopping.Token.WaitHandle.WaitOne();
        }
        catch (Exception ex)
        {
            log.Error(ex is UsageException ? ex.Message : ex.GetType().Name + ": " + ex.Message);
            exitCode = 1;
        }
        finally
        {
            if (server is not null)
            {
                using var timeout = new CancellationTokenSource(ShutdownTimeout);
                try { server.StopAsync(timeout.Token).GetAwaiter().GetResult(); }
                catch (Exception ex) { log.Warn("stopping: " + ex.Message); }
                server.Dispose();
            }
            Listeners.Cleanup(options);
            // The agent's whole-life peak, for the restore VM's memory budget (bench/vm.sh --io reads it off the console).
            if (PeakMemoryKiB() is { } peak) log.Info($"peak memory {peak / 1024.0:F1} MiB (VmHWM)");
        }
        return exitCode;
    }

    private static long? PeakMemoryKiB()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal) && long.TryParse(line[6..].Trim().Split(' ')[0], out long kib)) return kib;
        }
        catch (IOException) { }
        return null;
    }

    private sealed class NoServices : IServiceProvider
    {
        public static readonly NoServices Instance = new();
        public object? GetService(Type serviceType) => null;
    }
}
