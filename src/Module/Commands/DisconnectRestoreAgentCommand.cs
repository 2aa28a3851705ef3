using System.Management.Automation;
using RestoreTools.Module.Remote;

namespace RestoreTools.Module.Commands;

/// <summary>Closes sessions.</summary>
[Cmdlet(VerbsCommunications.Disconnect, "RestoreAgent")]
public sealed class DisconnectRestoreAgentCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public RestoreSession[] Session { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (var s in Session) SessionRegistry.Remove(s);
    }
}
