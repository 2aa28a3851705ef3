using System.Management.Automation;
using System.Net;
using System.Security;
using RestoreTools.Contract;
using RestoreTools.Engine;
using RestoreTools.Module.Remote;

namespace RestoreTools.Module.Commands;

/// <summary>Connects to a restore agent and returns a session for every cmdlet's -Session.</summary>
[Cmdlet(VerbsCommunications.Connect, "RestoreAgent", DefaultParameterSetName = "Socket")]
[OutputType(typeof(RestoreSession))]
public sealed class ConnectRestoreAgentCommand : PSCmdlet
{
    /// <summary>The agent's Unix socket.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Socket")]
    public string Socket { get; set; } = "";

    /// <summary>http://127.0.0.1:PORT, vsock:CID[:PORT], or virtio-serial:VMFOLDER (a restore VM's ports).</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Uri")]
    public string Uri { get; set; } = "";

    [Parameter]
    public string? TokenFile { get; set; }

    [Parameter]
    public SecureString? Token { get; set; }

    protected override void EndProcessing()
    {
        string endpoint = ParameterSetName == "Socket"
            ? "unix:" + SessionState.Path.GetUnresolvedProviderPathFromPSPath(Socket)
            : Uri;
        string? token = Token is not null ? new NetworkCredential("", Token).Password
            : TokenFile is not null ? File.ReadAllText(SessionState.Path.GetUnresolvedProviderPathFromPSPath(TokenFile)).Trim()
            : null;
        if (ParameterSetName == "Socket" && !File.Exists(endpoint[5..]))
        {
            // Said plainly: connecting to a missing socket reports an unrelated address error.
            ThrowTerminatingError(ErrorMapper.FromRemote(new IOException(
                $"no agent socket at '{endpoint[5..]}': is restore-agent running with --listen unix:{endpoint[5..]}?"), endpoint));
            return;
        }
        AgentClient client;
        try { client = new AgentClient(endpoint, token); }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(ErrorMapper.Create(RestoreErrorCode.InvalidPath, ex.Message, endpoint));
            return;
        }
        try
        {
            // With a token this is an authenticated call: a wrong token fails here, not on first use.
            // Without one the agent still answers its liveness check, and refuses everything else.
            client.GetStatus();
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            client.Dispose();
            ThrowTerminatingError(ErrorMapper.FromRemote(ex, endpoint));
        }
        if (token is null)
        {
            client.Dispose();
            ThrowTerminatingError(new ErrorRecord(new UnauthorizedAccessException(
                $"the agent at '{endpoint}' answers but serves nothing without its token: give -TokenFile (the file it reads its token from) or -Token"),
                "AgentUnauthorized", ErrorCategory.AuthenticationError, endpoint));
            return;
        }
        WriteObject(SessionRegistry.Add(endpoint, client));
    }
}
