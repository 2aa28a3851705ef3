using System.Security.Cryptography;
using System.Text;
using RestoreTools.Contract;

namespace RestoreTools.Agent.Auth;

/// <summary>
/// The bearer token: read from --token-file, or generated there (0600) when the file is absent.
/// Without a token file every request is let through. With --token-at-first-request the file is
/// read when the first request comes, not at start: a restore VM resumed from a boot snapshot
/// started its agent before it had a token of its own (qemu hands it one through fw_cfg).
/// </summary>
public sealed class TokenAuth
{
    private byte[]? _expected;   // "Bearer <token>" as UTF-8
    private readonly string? _deferredFile;
    private readonly Lock _loading = new();

    private TokenAuth(string? token) =>
        _expected = token is null ? null : Encoding.UTF8.GetBytes("Bearer " + token);

    private TokenAuth(string deferredFile, bool _) => _deferredFile = deferredFile;

    public bool Enabled => _expected is not null || _deferredFile is not null;

    public static TokenAuth Disabled { get; } = new(null);

    /// <summary>A token read from the file at the first request; until it can be read, nothing is let through.</summary>
    public static TokenAuth AtFirstRequest(string path) => new(path, true);

    private byte[]? Expected()
    {
        if (_expected is not null || _deferredFile is null) return _expected;
        lock (_loading)
        {
            if (_expected is not null) return _expected;
            try
            {
                string text = File.ReadAllText(_deferredFile).Trim();
                if (text.Length > 0 && !text.Any(c => c < 0x21 || c > 0x7E))
                    _expected = Encoding.UTF8.GetBytes("Bearer " + text);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
            return _expected;
        }
    }

    public static TokenAuth FromFile(string path, out bool generated)
    {
        generated = false;
        if (!File.Exists(path))
        {
            string token = RestoreTools.Engine.Native.SecureRandom.Hex(32);
            try
            {
                using var fs = new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
                fs.Write(Encoding.ASCII.GetBytes(token + "\n"));
                generated = true;
                return new TokenAuth(token);
            }
            catch (IOException) when (File.Exists(path)) { /* another writer won: read theirs */ }
        }
        string text = File.ReadAllText(path).Trim();
        if (text.Length == 0) throw new UsageException($"--token-file {path}: the file is empty");
        if (text.Any(c => c < 0x21 || c > 0x7E)) throw new UsageException($"--token-file {path}: the token must be printable ASCII without spaces");
        return new TokenAuth(text);
    }

    /// <summary>Whether the Authorization header carries the token (constant time over the header).</summary>
    public bool Check(HttpContext context)
    {
        if (!Enabled) return true;
        string? header = context.Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header)) return false;
        // No token yet (the deferred file is unreadable): fail closed.
        if (Expected() is not { } expected) return false;
        byte[] given = Encoding.UTF8.GetBytes(header);
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }

    /// <summary>
    /// The middleware: status without any Authorization header is the liveness answer; every other
    /// request without the right token is 401.
    /// </summary>
    public RequestDelegate Middleware(RequestDelegate next) => async context =>
    {
        if (Check(context))
        {
            context.Items[AuthenticatedKey] = true;
            await next(context);
            return;
        }
        bool noHeader = string.IsNullOrEmpty(context.Request.Headers.Authorization);
        if (noHeader && HttpMethods.IsGet(context.Request.Method) && context.Request.Path.Equals("/api/v1/status", StringComparison.Ordinal))
        {
            await next(context);   // the status endpoint answers { "ok": true } only
            return;
        }
        context.Response.Headers.WWWAuthenticate = "Bearer";
        await ErrorMapping.Write(context, StatusCodes.Status401Unauthorized, AgentCodes.Unauthorized,
            noHeader ? "this agent needs 'Authorization: Bearer <token>'" : "wrong token");
    };

    public const string AuthenticatedKey = "restore-agent.authenticated";

    public static bool IsAuthenticated(HttpContext context) => context.Items.ContainsKey(AuthenticatedKey);
}
