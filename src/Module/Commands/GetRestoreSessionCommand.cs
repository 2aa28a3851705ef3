using System.Management.Automation;
using RestoreTools.Module.Remote;

namespace RestoreTools.Module.Commands;

/// <summary>Lists the open sessions of this pwsh.</summary>
[Cmdlet(VerbsCommon.Get, "RestoreSession")]
[OutputType(typeof(RestoreSession))]
public sealed class GetRestoreSessionCommand : PSCmdlet
{
    [Parameter(Position = 0)]
    public int[]? Id { get; set; }

    protected override void EndProcessing()
    {
        foreach (var s in SessionRegistry.All)
            if (Id is null || Id.Contains(s.Id)) WriteObject(s);
    }
}
