namespace RestoreTools.Engine.Buckets;

/// <summary>The bucket kinds the engine knows, in the order their types are listed.</summary>
internal static class BucketCatalog
{
    public static IReadOnlyList<IBucketKind> Kinds { get; } = [new PartitionBucketKind(), new RawBucketKind(), new Lvm.LvmBucketKind()];

    public static IBucketKind? Find(string type) => Kinds.FirstOrDefault(k => k.Type == type);
}
