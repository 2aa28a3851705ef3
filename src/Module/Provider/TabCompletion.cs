using System.Diagnostics;

namespace RestoreTools.Module.Provider;

/// <summary>
/// Whether the provider is being asked by PowerShell's tab completion. Completion lists a folder
/// through GetChildItems with neither -Force nor a filter and then matches the typed word itself,
/// so hiding dot-names there would make ".ss" + Tab find nothing; nothing else tells such a call
/// from a user's Get-ChildItem, hence the look at the caller's frames. Should PowerShell rename its
/// completer, dot-names are merely not completed.
/// </summary>
internal static class TabCompletion
{
    public static bool IsCompleting()
    {
        foreach (var frame in new StackTrace(false).GetFrames())
        {
            var type = frame.GetMethod()?.DeclaringType;
            // Nested closures and iterators of the completer are its own nested types.
            while (type?.DeclaringType is { } outer) type = outer;
            if (type?.FullName is "System.Management.Automation.CompletionCompleters" or "System.Management.Automation.CommandCompletion")
                return true;
        }
        return false;
    }
}
