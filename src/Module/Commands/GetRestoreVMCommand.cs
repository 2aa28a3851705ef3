using System.Management.Automation;
using RestoreTools.Engine.RestoreVm;
using RestoreTools.Module.Remote;

namespace RestoreTools.Module.Commands;

/// <summary>Lists running restore VMs (this host's, whichever session started them).</summary>
[Cmdlet(VerbsCommon.Get, "RestoreVM")]
[OutputType(typeof(RestoreVmInfo))]
public sealed class GetRestoreVMCommand : PSCmdlet
{
    [Parameter(Position = 0)]
    [SupportsWildcards]
    public string[]? Id { get; set; }

    protected override void EndProcessing()
    {
        foreach (var vm in VmHolder.Manager.List())
            if (Id is null || Id.Any(p => new WildcardPattern(p).IsMatch(vm.Id)))
                WriteObject(vm);
    }
}
