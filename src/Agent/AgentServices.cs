using RestoreTools.Engine;

namespace RestoreTools.Agent;

/// <summary>
/// What the endpoints and middleware use, handed to them when they are mapped. No DI container:
/// building one took a large part of the agent's start-up under TCG in the restore VM.
/// </summary>
public sealed record AgentServices(
    IRestoreEngine Engine,
    EngineOptions EngineOptions,
    AgentOptions Options,
    DownloadLimiter Downloads,
    IdleWatchdog Watchdog,
    AgentLog Log,
    Action Stop)
{
    /// <summary>What each extract did, for its client to fetch after the body.</summary>
    public ExportReports Reports { get; } = new();
}
