using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using RestoreTools.Agent.Auth;

namespace RestoreTools.Agent;

/// <summary>
/// The connection cap (--max-connections), kept so that slow or silent clients cannot lock everyone
/// out: when a new connection finds every place taken, it takes the place of the oldest connection
/// that has not yet made an authenticated request (a client dribbling its headers, or one that
/// connected and said nothing), else of the longest-idle authenticated keep-alive connection. Only
/// when every connection is running an authenticated request is the newcomer turned away. Kestrel's
/// request-header timeout and data rates then end the slow ones for good.
/// </summary>
public sealed class ConnectionGuard(int max)
{
    private sealed class Entry(ConnectionContext connection, long opened)
    {
        public ConnectionContext Connection { get; } = connection;
        public long Opened { get; } = opened;
        public long LastUsed;
        public int Active;
        public bool Proven;
    }

    private const string ItemKey = "restore-agent.connection";
    private readonly HashSet<Entry> _entries = [];
    private readonly Lock _gate = new();
    private long _clock;
    private long _evicted, _refused;

    public int Max { get; } = max;
    public long Evicted => Interlocked.Read(ref _evicted);
    public long Refused => Interlocked.Read(ref _refused);

    public int Count { get { lock (_gate) return _entries.Count; } }

    /// <summary>Kestrel connection middleware: admits, evicts or refuses, and forgets the connection at its end.</summary>
    public Func<ConnectionDelegate, ConnectionDelegate> Middleware => next => async connection =>
    {
        Entry? entry = new(connection, Interlocked.Increment(ref _clock));
        Entry? victim = null;
        lock (_gate)
        {
            if (_entries.Count >= Max)
            {
                victim = _entries.Where(e => !e.Proven).MinBy(e => e.Opened)
                    ?? _entries.Where(e => e.Active == 0).MinBy(e => Volatile.Read(ref e.LastUsed));
                if (victim is not null) _entries.Remove(victim);
            }
            if (_entries.Count < Max) _entries.Add(entry);
            else entry = null;
        }
        if (victim is not null)
        {
            Interlocked.Increment(ref _evicted);
            victim.Connection.Abort(new ConnectionAbortedException("dropped for a new connection: every place was taken"));
        }
        if (entry is null)
        {
            Interlocked.Increment(ref _refused);
            return;   // Kestrel closes it
        }
        connection.Items[ItemKey] = entry;
        try { await next(connection); }
        finally { lock (_gate) _entries.Remove(entry); }
    };

    /// <summary>
    /// Request middleware, inside the token check: an authenticated request proves its connection,
    /// which is from then on kept over newcomers, and is not dropped while a request runs on it.
    /// </summary>
    public RequestDelegate Requests(RequestDelegate next) => async context =>
    {
        var entry = context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(ItemKey, out var o) == true ? o as Entry : null;
        if (entry is null || !TokenAuth.IsAuthenticated(context))
        {
            await next(context);
            return;
        }
        lock (_gate)
        {
            entry.Proven = true;
            entry.Active++;
        }
        try { await next(context); }
        finally
        {
            lock (_gate) entry.Active--;
            Volatile.Write(ref entry.LastUsed, Interlocked.Increment(ref _clock));
        }
    };
}
