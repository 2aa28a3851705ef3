using RestoreTools.Engine.RestoreVm;

namespace RestoreTools.Tests.Unit.RestoreVm;

/// <summary>Which VMs Get-RestoreVM (without -All) and Start-RestoreVM's reuse treat as this process's own.</summary>
public sealed class VmOwnershipTests
{
    private static RestoreVmInfo Vm(int uid, int pid) =>
        new("20261127000000-abcdef", 1, [], DateTimeOffset.UtcNow, "tcp", "http://127.0.0.1:1", 600, "tcg", "/nonexistent", "/nonexistent/token")
        { OwnerUid = uid, OwnerPid = pid };

    private static int Uid => (int)RestoreTools.Engine.Native.Identity.EffectiveUid;

    [Fact]
    public void OnlyThisUsersVmsOfThisProcessOrOfAProcessThatEnded()
    {
        Assert.True(RestoreVmManager.IsManagedHere(Vm(Uid, Environment.ProcessId)));
        // Started by a process that is still running (pid 1 always is): another shell's, a CI job's.
        Assert.False(RestoreVmManager.IsManagedHere(Vm(Uid, 1)));
        // Started by a process that has ended: orphaned, this user may take it over.
        using var ended = System.Diagnostics.Process.Start("true")!;
        ended.WaitForExit();
        Assert.True(RestoreVmManager.IsManagedHere(Vm(Uid, ended.Id)));
        // Another user's, whatever its process.
        Assert.False(RestoreVmManager.IsManagedHere(Vm(Uid + 4242, Environment.ProcessId)));
    }
}
