using System.Management.Automation;
using RestoreTools.Engine;

namespace RestoreTools.Module.Commands;

/// <summary>Lists the buckets (partitions, whole disks...) of disks.</summary>
[Cmdlet(VerbsCommon.Get, "RestoreBucket")]
[OutputType(typeof(RestoreBucket))]
public sealed class GetRestoreBucketCommand : RestoreCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ArgumentCompleter(typeof(DiskNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Disk { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(BucketTypeCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Type { get; set; }

    private readonly HashSet<string> written = new(StringComparer.Ordinal);

    protected override void ProcessRecord()
    {
        if (Disk is null)
        {
            Try(null, () => WriteBuckets(Engine.GetBuckets()));
            return;
        }

        foreach (var pattern in Disk)
        {
            Try(pattern, () =>
            {
                var disks = Match(Engine.GetDisks(), d => d.Name, pattern).Select(d => d.Name).ToList();
                if (disks.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(pattern))
                    throw new RestoreException(RestoreErrorCode.DiskNotFound, $"No disk named '{pattern}'.", pattern);
                foreach (var name in disks) WriteBuckets(Engine.GetBuckets(name));
            });
        }
    }

    private void WriteBuckets(IEnumerable<RestoreBucket> buckets)
    {
        var typePattern = Type is null ? null : new WildcardPattern(Type, WildcardOptions.IgnoreCase);
        foreach (var b in buckets)
        {
            if (typePattern is not null && !typePattern.IsMatch(b.Type)) continue;
            if (!written.Add(b.Path)) continue;
            foreach (var w in b.Warnings) WriteWarning($"'{b.Path}': {w}");
            WriteRestoreObject(b);
        }
    }
}
