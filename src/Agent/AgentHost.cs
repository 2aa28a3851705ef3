using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Console;
using RestoreTools.Agent.Auth;
using RestoreTools.Agent.Endpoints;
using RestoreTools.Engine;

namespace RestoreTools.Agent;

/// <summary>Builds the Kestrel host: engine, listeners, middleware (log, idle, errors, auth) and endpoints.</summary>
public static class AgentHost
{
    public static int Run(AgentOptions options)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft", options.Verbose ? LogLevel.Information : LogLevel.Warning);

        builder.WebHost.UseSockets(s =>
        {
            s.Backlog = options.Backlog;
            s.CreateBoundListenSocket = Listeners.CreateBoundSocket;
        });
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxConcurrentConnections = options.MaxConnections;
            k.Limits.MaxRequestBodySize = 64 * 1024;
            Listeners.Configure(k, options);
        });
        builder.Services.AddSingleton<IConnectionListenerFactory>(new VsockTransportFactory(options));
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(5));

        // Sink for engine warnings until the logger exists.
        ILogger? engineLog = null;
        var engineOptions = new EngineOptions
        {
            NodeDir = Path.Combine(options.StateDir, "dev"),
            MountRoot = Path.Combine(options.StateDir, "mnt"),
            ScanVirtio = options.RestoreVm ?? File.Exists(EngineOptions.RestoreVmMarker),
            Warning = w => engineLog?.LogWarning("engine: {Warning}", w),
        };

        TokenAuth auth;
        bool generated = false;
        try
        {
            auth = options.TokenFile is null ? TokenAuth.Disabled : TokenAuth.FromFile(options.TokenFile, out generated);
        }
        catch (Exception ex) when (ex is UsageException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"restore-agent: {ex.Message}");
            return 1;
        }

        var limiter = new DownloadLimiter(options.MaxDownloads);
        using var engine = new RestoreEngine(engineOptions);
        builder.Services.AddSingleton<IRestoreEngine>(engine);
        builder.Services.AddSingleton(engineOptions);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(limiter);

        // The watchdog exists before the host (endpoints take it from DI); it stops the host once built.
        IHostApplicationLifetime? lifetimeRef = null;
        ILogger? idleLog = null;
        var watchdog = new IdleWatchdog(options.IdleTimeout, () =>
        {
            idleLog?.LogInformation("idle for {Seconds} s: exiting", options.IdleTimeout!.Value.TotalSeconds);
            lifetimeRef?.StopApplication();
        });
        builder.Services.AddSingleton(watchdog);

        WebApplication app;
        try
        {
            app = builder.Build();
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"restore-agent: {ex.Message}");
            watchdog.Dispose();
            return 1;
        }
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RestoreTools.Agent");
        engineLog = log;
        idleLog = log;
        lifetimeRef = lifetime;

        if (generated) log.LogInformation("generated a token in {File}", options.TokenFile);
        if (!auth.Enabled && options.Listen.Any(l => l.Kind != ListenKind.Unix))
            log.LogWarning("no --token-file: anyone who can connect may use this agent");

        try
        {
            foreach (var (name, path) in options.Images)
            {
                if (engineOptions.ScanVirtio)
                    throw new RestoreException(RestoreErrorCode.NotSupported, "--image is for a host run: inside a restore VM the disks are virtio disks");
                var disk = engine.AttachImage(path, name);
                log.LogInformation("attached {Path} as {Name} on {Device}", path, disk.Name, disk.Device);
            }
        }
        catch (RestoreException ex)
        {
            log.LogError("{Message}", ex.Message);
            (app as IDisposable).Dispose();
            return 1;
        }

        var requestLog = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RestoreTools.Agent.Request");
        app.Use(next => RequestLog.Middleware(next, requestLog));
        app.Use(watchdog.Middleware);
        app.Use(next => ErrorMapping.Middleware(next, log));
        app.Use(auth.Middleware);

        StatusEndpoints.Map(app);
        BrowseEndpoints.Map(app);
        ListEndpoint.Map(app);
        ContentEndpoint.Map(app);
        ExtractEndpoint.Map(app);
        ImageEndpoints.Map(app);
        app.MapFallback((HttpContext context) => Results.Json(
            new Contract.ErrorResponse(Contract.AgentCodes.NotFound, $"no endpoint {context.Request.Method} {context.Request.Path}"),
            Contract.AgentJsonContext.Default.ErrorResponse, statusCode: StatusCodes.Status404NotFound));

        int exitCode = 0;
        try
        {
            app.Start();
            log.LogInformation("restore-agent {Version} listening on {Listen} ({Mode}, {Disks} disks, token {Token})",
                StatusEndpoints.Version, string.Join(", ", app.Urls), engineOptions.ScanVirtio ? "restore VM" : "host",
                engine.GetDisks().Count, auth.Enabled ? "required" : "off");
            app.WaitForShutdown();
        }
        catch (Exception ex)
        {
            log.LogError("{Message}", ex.Message);
            exitCode = 1;
        }
        finally
        {
            watchdog.Dispose();
            (app as IDisposable).Dispose();
            Listeners.Cleanup(options);
        }
        return exitCode;
    }
}
