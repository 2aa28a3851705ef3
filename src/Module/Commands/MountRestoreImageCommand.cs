using System.Management.Automation;
using RestoreTools.Engine;

namespace RestoreTools.Module.Commands;

/// <summary>Attaches image files read-only on loop devices.</summary>
[Cmdlet(VerbsData.Mount, "RestoreImage", SupportsShouldProcess = true, DefaultParameterSetName = PathSet)]
[OutputType(typeof(RestoreDisk))]
public sealed class MountRestoreImageCommand : RestoreCmdlet
{
    private const string PathSet = "Path", LiteralPathSet = "LiteralPath";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var files = new List<string>();
        if (ParameterSetName == LiteralPathSet)
        {
            foreach (var p in LiteralPath) files.Add(GetUnresolvedProviderPathFromPSPath(p));
        }
        else
        {
            foreach (var p in Path)
            {
                try
                {
                    var resolved = GetResolvedProviderPathFromPSPath(p, out var provider);
                    if (provider.ImplementingType != typeof(Microsoft.PowerShell.Commands.FileSystemProvider))
                    {
                        WriteRestoreError(RestoreErrorCode.InvalidPath, $"'{p}' is not a file system path.", p);
                        continue;
                    }
                    if (resolved.Count == 0 && WildcardPattern.ContainsWildcardCharacters(p)) continue;
                    files.AddRange(resolved);
                }
                catch (ItemNotFoundException)
                {
                    WriteRestoreError(RestoreErrorCode.ImageNotFound, $"Cannot find image '{p}'.", p);
                }
            }
        }

        if (Name is not null && files.Count > 1)
        {
            WriteRestoreError(RestoreErrorCode.InvalidPath,
                $"-Name '{Name}' can name only one image, but the path matched {files.Count} files.", Name);
            return;
        }

        foreach (var file in files)
        {
            string shown = Name ?? System.IO.Path.GetFileName(file);
            if (!ShouldProcess(file, $"Attach read-only as disk '{shown}'")) continue;
            Try(file, () =>
            {
                var disk = Engine.AttachImage(file, Name);
                if (PassThru) WriteRestoreObject(disk);
            });
        }
    }
}
