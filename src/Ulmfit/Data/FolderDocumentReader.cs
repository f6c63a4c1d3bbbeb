namespace Ulmfit.Data;

/// <summary>
/// A folder of <c>.txt</c> / <c>.txt.gz</c> files, one document per file, in ordinal file-name order so every
/// machine reads them in the same order. Sub-folders and other files are ignored.
/// </summary>
internal static class FolderDocumentReader
{
    public static IEnumerable<TextDocument> Read(string folder, ReadReport report)
    {
        report.Reset(folder);
        string[] files = ListFiles(folder);
        if (files.Length == 0) throw new InvalidInputException(folder, null, null, "the folder has no .txt or .txt.gz files");
        foreach (string file in files)
        {
            string text;
            using (var reader = PlainTextDocumentReader.OpenText(file)) text = reader.ReadToEnd();
            text = text.TrimStart('\uFEFF').TrimEnd('\r', '\n');
            var origin = new DocumentOrigin(file, 1);
            if (string.IsNullOrWhiteSpace(text))
            {
                report.CountSkipped(origin);
                continue;
            }
            report.CountDocument();
            yield return new TextDocument([text], null, origin);
        }
    }

    /// <summary>The document files of <paramref name="folder"/>, as paths built on the folder as given, sorted by name.</summary>
    internal static string[] ListFiles(string folder)
    {
        string[] files = Directory.EnumerateFiles(folder)
            .Where(f => DocumentReader.HasExtension(f, ".txt") || DocumentReader.HasExtension(f, ".txt.gz"))
            .ToArray();
        Array.Sort(files, (a, b) => string.CompareOrdinal(Path.GetFileName(a), Path.GetFileName(b)));
        return files;
    }
}
