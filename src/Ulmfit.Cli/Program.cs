using Ulmfit.Cli;
using Ulmfit.Cli.Infrastructure;

// Before anything else: libtorch's allocation pattern runs up to twice as fast under jemalloc (NativeAllocator).
AllocatorRestart.RestartUnderJemallocIfInstalled();
return CliApp.Run(args);
