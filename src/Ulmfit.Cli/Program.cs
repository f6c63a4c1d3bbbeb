using Ulmfit.Cli;
using Ulmfit.Cli.Infrastructure;

// Before anything else: LM training runs up to three times as fast under jemalloc (NativeAllocator).
AllocatorRestart.RestartUnderJemallocIfInstalled();
return CliApp.Run(args);
