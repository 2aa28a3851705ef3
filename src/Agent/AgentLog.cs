using System.Globalization;

namespace RestoreTools.Agent;

/// <summary>
/// The agent's log: one line per event on stderr, "time level: category message", as the
/// console logger wrote it. Kestrel's own messages come through <see cref="KestrelLogs"/>.
/// </summary>
public sealed class AgentLog(string category)
{
    public string Category { get; } = category;

    public AgentLog For(string category) => new(category);

    public void Info(string message) => Write("info", message);
    public void Warn(string message) => Write("warn", message);
    public void Error(string message) => Write("fail", message);

    public void Write(string level, string message) =>
        // Console.Error is synchronized: lines from several requests do not interleave.
        Console.Error.WriteLine(DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)
            + " " + level + ": " + Category + " " + message);
}

/// <summary>Kestrel's loggers, into the agent's log: warnings and errors, everything from Information with --verbose.</summary>
public sealed class KestrelLogs(LogLevel minimum) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Logger(new AgentLog(categoryName), minimum);
    public void AddProvider(ILoggerProvider provider) { }
    public void Dispose() { }

    private sealed class Logger(AgentLog log, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            string message = formatter(state, exception) + (exception is null ? "" : " " + exception);
            log.Write(logLevel switch
            {
                LogLevel.Trace => "trce",
                LogLevel.Debug => "dbug",
                LogLevel.Information => "info",
                LogLevel.Warning => "warn",
                LogLevel.Error => "fail",
                _ => "crit",
            }, message);
        }
    }
}
