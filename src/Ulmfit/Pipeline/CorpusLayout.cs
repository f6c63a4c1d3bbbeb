namespace Ulmfit.Pipeline;

/// <summary>
/// Which files of a corpus path are training text and which are held out. A folder that holds <c>train*</c> files
/// (like the shared Wikipedia corpus: train-000.txt.gz …, valid.txt.gz, test.txt.gz) is a sharded corpus; anything
/// else is one input (a CSV, a text file, or a folder of .txt documents).
/// </summary>
public sealed record CorpusLayout(IReadOnlyList<string> TrainingFiles, string? ValidationFile, string? TestFile)
{
    static readonly string[] Extensions = [".txt", ".txt.gz", ".csv", ".csv.gz"];

    /// <summary>Resolves <paramref name="paths"/> (one or more inputs) into training and held-out files.</summary>
    public static CorpusLayout Resolve(IReadOnlyList<string> paths)
    {
        if (paths.Count == 0) throw new ArgumentException("no input was given", nameof(paths));
        if (paths.Count == 1 && Directory.Exists(paths[0]))
        {
            string folder = paths[0];
            string[] files = Directory.GetFiles(folder).Where(f => Extensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase))).ToArray();
            string[] shards = files.Where(f => Path.GetFileName(f).StartsWith("train", StringComparison.OrdinalIgnoreCase))
                .OrderBy(f => f, StringComparer.Ordinal).ToArray();
            if (shards.Length > 0)
                return new CorpusLayout(shards, FirstNamed(files, "valid"), FirstNamed(files, "test"));
        }
        return new CorpusLayout(paths.ToArray(), null, null);
    }

    static string? FirstNamed(IEnumerable<string> files, string prefix) =>
        files.Where(f => Path.GetFileName(f).StartsWith(prefix, StringComparison.OrdinalIgnoreCase)).OrderBy(f => f, StringComparer.Ordinal).FirstOrDefault();
}
