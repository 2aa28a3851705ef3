using System.Collections.Concurrent;
using System.Management.Automation;
using RestoreTools.Engine;

namespace RestoreTools.Module;

/// <summary>
/// The one engine of this process. Created on first use, disposed when the module is removed
/// (IModuleAssemblyCleanup) or the process exits, so attached images are unmounted and detached.
/// </summary>
public static class EngineHolder
{
    private static readonly object Gate = new();
    private static readonly ConcurrentQueue<string> PendingWarnings = new();
    private static IRestoreEngine? engine;
    private static bool exitHooked;

    /// <summary>The engine, created on first use.</summary>
    public static IRestoreEngine Engine
    {
        get
        {
            lock (Gate)
            {
                if (engine is null)
                {
                    engine = new RestoreEngine(new EngineOptions { Warning = PendingWarnings.Enqueue });
                    if (!exitHooked)
                    {
                        AppDomain.CurrentDomain.ProcessExit += (_, _) => Reset();
                        exitHooked = true;
                    }
                }
                return engine;
            }
        }
    }

    /// <summary>The engine if one was created, without creating it.</summary>
    public static IRestoreEngine? Current
    {
        get { lock (Gate) return engine; }
    }

    /// <summary>Warnings the engine raised since the last call.</summary>
    public static IEnumerable<string> DrainWarnings()
    {
        while (PendingWarnings.TryDequeue(out var w)) yield return w;
    }

    /// <summary>Disposes the engine (unmounts its buckets, detaches its images).</summary>
    public static void Reset()
    {
        IRestoreEngine? old;
        lock (Gate)
        {
            old = engine;
            engine = null;
        }
        old?.Dispose();
    }
}

/// <summary>Runs when Remove-Module RestoreTools unloads the module.</summary>
public sealed class ModuleCleanup : IModuleAssemblyCleanup
{
    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        Remote.SessionRegistry.CloseAll();
        Remote.VmHolder.Reset();
        EngineHolder.Reset();
    }
}
