using System.Management.Automation;
using RestoreTools.Engine;

namespace RestoreTools.Module;

/// <summary>Turns engine errors into ErrorRecords: ErrorId = the RestoreErrorCode name.</summary>
public static class ErrorMapper
{
    public static ErrorCategory Category(RestoreErrorCode code) => code switch
    {
        RestoreErrorCode.InvalidPath => ErrorCategory.InvalidArgument,
        RestoreErrorCode.DiskNotFound => ErrorCategory.ObjectNotFound,
        RestoreErrorCode.BucketTypeNotFound => ErrorCategory.ObjectNotFound,
        RestoreErrorCode.ComponentNotFound => ErrorCategory.ObjectNotFound,
        RestoreErrorCode.ItemNotFound => ErrorCategory.ObjectNotFound,
        RestoreErrorCode.ImageNotFound => ErrorCategory.ObjectNotFound,
        RestoreErrorCode.SymlinkLoop => ErrorCategory.InvalidData,
        RestoreErrorCode.MountFailed => ErrorCategory.InvalidOperation,
        RestoreErrorCode.UnmountFailed => ErrorCategory.InvalidOperation,
        RestoreErrorCode.AttachFailed => ErrorCategory.InvalidOperation,
        RestoreErrorCode.DetachFailed => ErrorCategory.InvalidOperation,
        RestoreErrorCode.NameInUse => ErrorCategory.ResourceExists,
        RestoreErrorCode.NotSupported => ErrorCategory.NotImplemented,
        RestoreErrorCode.NotAFile => ErrorCategory.InvalidArgument,
        RestoreErrorCode.ReadFailed => ErrorCategory.ReadError,
        RestoreErrorCode.TargetExists => ErrorCategory.ResourceExists,
        RestoreErrorCode.WriteFailed => ErrorCategory.WriteError,
        _ => ErrorCategory.NotSpecified,
    };

    public static ErrorRecord ToErrorRecord(RestoreException ex, object? target) =>
        new(ex, ex.Code.ToString(), Category(ex.Code), target ?? ex.Target);

    public static ErrorRecord Create(RestoreErrorCode code, string message, object? target) =>
        ToErrorRecord(new RestoreException(code, message, target?.ToString()), target);
}
