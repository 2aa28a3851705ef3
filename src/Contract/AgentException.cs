namespace RestoreTools.Contract;

/// <summary>
/// An agent answer that is not an engine error (401 Unauthorized, 503 Busy, 416, 5xx, or a body
/// that is not the agent's JSON). Engine errors come back as RestoreException with their code.
/// </summary>
public sealed class AgentException(int statusCode, string code, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public int StatusCode { get; } = statusCode;
    public string Code { get; } = code;
}
