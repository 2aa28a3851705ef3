using System.Management.Automation;

namespace RestoreTools.Module.Provider;

/// <summary>Get-ChildItem's -File and -Directory on a Restore: drive, as on FileSystem drives.</summary>
public sealed class RestoreChildItemParameters
{
    /// <summary>Only items that are not containers: files, symbolic links, devices.</summary>
    [Parameter]
    public SwitchParameter File { get; set; }

    /// <summary>Only containers: folders, and disks, types and buckets above them.</summary>
    [Parameter]
    [Alias("ad")]
    public SwitchParameter Directory { get; set; }
}
