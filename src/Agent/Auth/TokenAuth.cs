using System.Security.Cryptography;
using System.Text;
using RestoreTools.Contract;

namespace RestoreTools.Agent.Auth;

/// <summary>
/// The bearer token: read from --token-file, or generated there (0600) when the file is absent.
/// Without a token file every request is let through.
/// </summary>
public sealed class TokenAuth
{
    private readonly byte[]? _expected;   // "Bearer <token>" as UTF-8

    private TokenAuth(string? token) =>
        _expected = token is null ? null : Encoding.UTF8.GetBytes("Bearer " + token);

    public bool Enabled => _expected is not null;

    public static TokenAuth Disabled { get; } = new(null);

    public static TokenAuth FromFile(string path, out bool generated)
    {
        generated = false;
        if (!File.Exists(path))
        {
            string token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
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
        if (_expected is null) return true;
        string? header = context.Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header)) return false;
        byte[] given = Encoding.UTF8.GetBytes(header);
        return CryptographicOperations.FixedTimeEquals(given, _expected);
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
