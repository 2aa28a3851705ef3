using System.Management.Automation;
using RestoreTools.Engine;
using RestoreTools.Module.Remote;

namespace RestoreTools.Module.Commands;

/// <summary>Asks a restore VM's agent to power off, then ends qemu if it does not; closes its sessions.</summary>
[Cmdlet(VerbsLifecycle.Stop, "RestoreVM", SupportsShouldProcess = true, DefaultParameterSetName = "Id")]
public sealed class StopRestoreVMCommand : PSCmdlet
{
    /// <summary>The VM id (Get-RestoreVM piped in binds it by name).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = "Id")]
    public string[] Id { get; set; } = [];

    /// <summary>
    /// A session of Start-RestoreVM: its VM is stopped. Bound by value, so that a session piped in
    /// stops its VM, not whatever VM has the session's own number as id.
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "Session")]
    public RestoreSession[] Session { get; set; } = [];

    protected override void ProcessRecord()
    {
        var ids = new List<string>(Id);
        if (ParameterSetName == "Session")
            foreach (var s in Session)
            {
                if (s.VmId is null)
                    WriteError(ErrorMapper.Create(Engine.RestoreErrorCode.VmNotFound,
                        $"session {s.Id} ({s.Endpoint}) is not a restore VM's: close it with Disconnect-RestoreAgent", s));
                else ids.Add(s.VmId);
            }
        foreach (var id in ids)
        {
            if (!ShouldProcess(id, "Stop restore VM")) continue;
            foreach (var s in SessionRegistry.All.Where(s => s.VmId == id)) SessionRegistry.Remove(s);
            try { VmHolder.Manager.Stop(id); }
            catch (RestoreException ex) { WriteError(ErrorMapper.ToErrorRecord(ex, id)); }
        }
    }
}
