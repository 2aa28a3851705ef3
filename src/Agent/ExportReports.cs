using RestoreTools.Engine.Export;

namespace RestoreTools.Agent;

/// <summary>
/// What each extract did (counts, entries left out, warnings), kept for its client to fetch after
/// the body: HTTP/1.1 in Kestrel has no trailers, and a client that copied a tree must still hear
/// that a folder could not be read. Only the newest few are kept; each is read at most once.
/// </summary>
public sealed class ExportReports
{
    private const int Keep = 64;
    private readonly Dictionary<string, ExportResult> _byId = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly Lock _gate = new();

    public static string NewId() => Guid.NewGuid().ToString("N");

    public void Add(string id, ExportResult result)
    {
        lock (_gate)
        {
            _byId[id] = result;
            _order.Enqueue(id);
            while (_order.Count > Keep) _byId.Remove(_order.Dequeue());
        }
    }

    public ExportResult? Take(string id)
    {
        lock (_gate) return _byId.Remove(id, out var result) ? result : null;
    }
}
