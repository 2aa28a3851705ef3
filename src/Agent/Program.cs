using RestoreTools.Agent;

// restore-agent: parse the command line, then run the host until stop, idle timeout or a signal.
// restore-agent run-vm ...: the engine's restore VM launcher for scripts (RunVmCommand).
if (args.Length > 0 && args[0] == "run-vm") return RunVmCommand.Run(args[1..]);
AgentOptions options;
try
{
    options = AgentOptions.Parse(args);
}
catch (UsageException ex)
{
    Console.Error.WriteLine($"restore-agent: {ex.Message} (see --help)");
    return 2;
}
if (options.Help)
{
    Console.Out.WriteLine(AgentOptions.HelpText);
    return 0;
}
if (options.Version)
{
    Console.Out.WriteLine("restore-agent " + RestoreTools.Agent.Endpoints.StatusEndpoints.Version);
    return 0;
}
return AgentHost.Run(options);
