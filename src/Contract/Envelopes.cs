namespace RestoreTools.Contract;

/// <summary>
/// Every error the agent answers: code is a RestoreErrorCode name, or one of the agent's own
/// codes (AgentCodes) for what the engine has no word for.
/// </summary>
public sealed record ErrorResponse(string Code, string Message, string? Target = null);

/// <summary>The agent's own error codes, beside the engine's RestoreErrorCode names.</summary>
public static class AgentCodes
{
    public const string Unauthorized = "Unauthorized";
    public const string Busy = "Busy";
    public const string BadRequest = "BadRequest";
    public const string RangeNotSatisfiable = "RangeNotSatisfiable";
    public const string NotFound = "NotFound";
    public const string Internal = "Internal";
}

/// <summary>What /api/v1/status answers without a token: only that the agent is alive.</summary>
public sealed record LivenessResponse(bool Ok);

/// <summary>What /api/v1/status answers with a token.</summary>
public sealed record StatusResponse(
    bool Ok,
    string Version,
    double UptimeSeconds,
    double? IdleTimeoutSeconds,   // null: no idle exit
    double IdleSeconds,           // since the last request ended (0 while one runs)
    int Disks,
    int ActiveRequests,
    int ActiveDownloads,
    int MaxDownloads,
    bool RestoreVm,               // true inside a restore VM (virtio disks), false on a host
    int ProcessId);

/// <summary>What POST /api/v1/stop and DELETE /api/v1/images answer.</summary>
public sealed record OkResponse(bool Ok, string? Message = null);
