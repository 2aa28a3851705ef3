using System.Diagnostics;

namespace RestoreTools.Agent;

/// <summary>
/// Stops the agent after --idle-timeout without a request. A request in flight (a long download
/// too) holds the timer; the idle time counts from the end of the last request.
/// </summary>
public sealed class IdleWatchdog : IDisposable
{
    private readonly TimeSpan? _timeout;
    private readonly Action _onIdle;
    private readonly Timer? _timer;
    private int _active;
    private long _lastActivity = Stopwatch.GetTimestamp();
    private int _fired;

    public IdleWatchdog(TimeSpan? timeout, Action onIdle)
    {
        _timeout = timeout;
        _onIdle = onIdle;
        if (timeout is { } t)
        {
            var period = TimeSpan.FromMilliseconds(Math.Clamp(t.TotalMilliseconds / 10, 50, 1000));
            _timer = new Timer(_ => Check(), null, period, period);
        }
    }

    public TimeSpan? Timeout => _timeout;
    public int Active => Volatile.Read(ref _active);

    public TimeSpan IdleFor => Active > 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastActivity));

    public void Enter()
    {
        Interlocked.Increment(ref _active);
        Interlocked.Exchange(ref _lastActivity, Stopwatch.GetTimestamp());
    }

    public void Exit()
    {
        Interlocked.Exchange(ref _lastActivity, Stopwatch.GetTimestamp());
        Interlocked.Decrement(ref _active);
    }

    public RequestDelegate Middleware(RequestDelegate next) => async context =>
    {
        Enter();
        try { await next(context); }
        finally { Exit(); }
    };

    private void Check()
    {
        if (_timeout is not { } t || Active > 0 || IdleFor < t) return;
        if (Interlocked.Exchange(ref _fired, 1) == 0) _onIdle();
    }

    public void Dispose() => _timer?.Dispose();
}
