namespace Ulmfit.Pipeline;

/// <summary>
/// The pretrained English language models that ship with Ulmfit.NET (a forward and a backward one, trained on the
/// general-domain Wikipedia corpus; see models/README.md for their model card). They are found in a <c>models</c>
/// folder next to the application (the CLI and the library's package put them there), or in the folder named by the
/// <c>ULMFIT_MODELS</c> environment variable. <see cref="FitOptions"/> uses them by default.
/// </summary>
public static class ShippedLanguageModels
{
    /// <summary>Environment variable that points to another folder of shipped models.</summary>
    public const string FolderVariable = "ULMFIT_MODELS";

    /// <summary>Sub-folder of the forward English LM.</summary>
    public const string ForwardName = "en-wiki-fwd";

    /// <summary>Sub-folder of the backward English LM.</summary>
    public const string BackwardName = "en-wiki-bwd";

    /// <summary>The forward English LM's package folder, or null when it is not installed.</summary>
    public static string? Forward => Find(ForwardName);

    /// <summary>The backward English LM's package folder, or null when it is not installed.</summary>
    public static string? Backward => Find(BackwardName);

    /// <summary>The package folder <paramref name="name"/> in the first candidate models folder that holds one, or null.</summary>
    public static string? Find(string name, IEnumerable<string>? folders = null)
    {
        foreach (string folder in folders ?? CandidateFolders())
        {
            string path = Path.Combine(folder, name);
            if (File.Exists(Path.Combine(path, IO.ModelManifest.FileName))) return path;
        }
        return null;
    }

    /// <summary>Where shipped models are looked for, in order: <see cref="FolderVariable"/>, then
    /// <c>models</c> beside the application.</summary>
    public static IEnumerable<string> CandidateFolders()
    {
        if (Environment.GetEnvironmentVariable(FolderVariable) is { Length: > 0 } custom) yield return custom;
        yield return Path.Combine(AppContext.BaseDirectory, "models");
    }
}
