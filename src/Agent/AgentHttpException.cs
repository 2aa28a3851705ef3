namespace RestoreTools.Agent;

/// <summary>An answer the agent gives for its own reasons (busy, bad range, bad format), not the engine's.</summary>
public sealed class AgentHttpException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;

    /// <summary>Headers that go with the error answer (Retry-After, Content-Range).</summary>
    public Dictionary<string, string> Headers { get; } = [];
}
