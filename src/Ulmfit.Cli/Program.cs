using Ulmfit.Cli;

return CliApp.Run(args);
