namespace Ulmfit.Tests.Cli;

/// <summary>Finds the repository (the folder holding Ulmfit.slnx) and the shared data beside it.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string Samples => Path.Combine(Root, "samples");

    /// <summary>`../shared` beside the repository, or null when it is absent.</summary>
    public static string? Shared => Directory.Exists(Path.Combine(Root, "..", "shared")) ? Path.GetFullPath(Path.Combine(Root, "..", "shared")) : null;

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Ulmfit.slnx"))) return dir.FullName;
        throw new InvalidOperationException("repository root (Ulmfit.slnx) not found above " + AppContext.BaseDirectory);
    }
}
