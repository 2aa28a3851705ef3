using System.Management.Automation;
using RestoreTools.Engine;
using RestoreTools.Module.Remote;

namespace RestoreTools.Module.Provider;

/// <summary>
/// A drive of the RestoreTools provider: this host's engine (the Restore: drive made on import),
/// or a restore agent's session given to New-PSDrive -Session (one drive per restore VM).
/// </summary>
public sealed class RestoreDriveInfo : PSDriveInfo
{
    internal RestoreDriveInfo(PSDriveInfo drive, RestoreSession? session) : base(drive)
    {
        Session = session;
    }

    /// <summary>The agent this drive browses through; null for this host's own engine.</summary>
    public RestoreSession? Session { get; }

    /// <summary>The engine behind the drive (a closed session refuses with a clear error).</summary>
    internal IRestoreEngine Engine => Session?.Engine ?? EngineHolder.Engine;
}

/// <summary>New-PSDrive's -Session when the provider is RestoreTools.</summary>
public sealed class RestoreDriveParameters
{
    /// <summary>A restore agent's session (Connect-RestoreAgent, Start-RestoreVM): the drive browses that agent's disks.</summary>
    [Parameter]
    [ValidateNotNull]
    public RestoreSession? Session { get; set; }
}
