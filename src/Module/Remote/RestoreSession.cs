using RestoreTools.Contract;
using RestoreTools.Engine;

namespace RestoreTools.Module.Remote;

/// <summary>
/// A connection to a restore agent (on this host, or inside a restore VM). Every cmdlet takes it
/// through -Session and then works through the agent, with the same objects and errors as locally.
/// </summary>
public sealed class RestoreSession : IDisposable
{
    internal RestoreSession(int id, string endpoint, AgentClient client, string? vmId)
    {
        Id = id;
        Endpoint = endpoint;
        Client = client;
        VmId = vmId;
        Connected = DateTimeOffset.Now;
    }

    public int Id { get; }
    public string Endpoint { get; }
    public string? VmId { get; }
    public DateTimeOffset Connected { get; }
    public bool IsOpen { get; private set; } = true;

    /// <summary>"unix", "vsock", "virtio-serial" or "tcp", from the endpoint.</summary>
    public string Transport => Endpoint.StartsWith("unix:", StringComparison.Ordinal) ? "unix"
        : Endpoint.StartsWith("vsock:", StringComparison.Ordinal) ? "vsock"
        : Endpoint.StartsWith("virtio-serial:", StringComparison.Ordinal) ? "virtio-serial" : "tcp";

    internal AgentClient Client { get; }

    internal IRestoreEngine Engine => IsOpen ? Client
        : throw new RestoreException(RestoreErrorCode.InvalidPath, $"session {Id} ({Endpoint}) is closed");

    public void Dispose()
    {
        if (!IsOpen) return;
        IsOpen = false;
        Client.Dispose();
    }

    public override string ToString() => $"{Id}: {Endpoint}";
}

/// <summary>The sessions of this process, so that Get-RestoreSession lists them and exit closes them.</summary>
internal static class SessionRegistry
{
    private static readonly List<RestoreSession> Sessions = [];
    private static int nextId = 1;

    public static RestoreSession Add(string endpoint, AgentClient client, string? vmId = null)
    {
        lock (Sessions)
        {
            var s = new RestoreSession(nextId++, endpoint, client, vmId);
            Sessions.Add(s);
            return s;
        }
    }

    public static IReadOnlyList<RestoreSession> All
    {
        get { lock (Sessions) return [.. Sessions]; }
    }

    public static void Remove(RestoreSession session)
    {
        lock (Sessions) Sessions.Remove(session);
        session.Dispose();
    }

    public static void CloseAll()
    {
        foreach (var s in All) Remove(s);
    }
}
