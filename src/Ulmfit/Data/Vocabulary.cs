using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Ulmfit.Text;

namespace Ulmfit.Data;

/// <summary>
/// The token ↔ id mapping: the special tokens first (ids 0..8, <see cref="SpecialTokens.All"/>), then words by
/// falling frequency (ties in ordinal string order, so every machine builds the same vocabulary), padded to a
/// multiple of 8 with <see cref="Filler"/> entries (the embedding matrix then has a size that vectorizes well;
/// fillers never occur in text). Immutable and thread-safe.
/// </summary>
public sealed class Vocabulary
{
    /// <summary>The version of the JSON format written by <see cref="Save"/>.</summary>
    public const int FormatVersion = 1;

    /// <summary>Name of the padding entries (fastai's name for them).</summary>
    public const string Filler = "xxfake";

    readonly string[] tokens;
    readonly Dictionary<string, int> ids;
    readonly byte[] hash;

    Vocabulary(string[] tokens, Dictionary<string, int> ids, VocabularySettings? builtWith)
    {
        this.tokens = tokens;
        this.ids = ids;
        BuiltWith = builtWith;
        hash = ComputeHash(tokens);
        Hash = Convert.ToHexStringLower(hash);
    }

    /// <summary>Number of ids (fillers included): the embedding matrix has this many rows.</summary>
    public int Count => tokens.Length;

    /// <summary>All entries in id order.</summary>
    public IReadOnlyList<string> Tokens => tokens;

    /// <summary>Settings this vocabulary was built with, or null when it was loaded from a list of tokens.</summary>
    public VocabularySettings? BuiltWith { get; }

    /// <summary>SHA-256 (lower-case hex) of the entries in order; token stores record it to detect a vocabulary mismatch.</summary>
    public string Hash { get; }

    internal ReadOnlySpan<byte> HashBytes => hash;

    /// <summary>Id of <paramref name="token"/>; unknown tokens (and the fillers) map to <see cref="SpecialTokens.UnknownId"/>.</summary>
    public int Encode(string token) => ids.TryGetValue(token, out int id) ? id : SpecialTokens.UnknownId;

    /// <summary>Ids of <paramref name="documentTokens"/> into <paramref name="destination"/>; returns how many were unknown.</summary>
    public int Encode(IReadOnlyList<string> documentTokens, Span<int> destination)
    {
        if (destination.Length < documentTokens.Count) throw new ArgumentException("destination is too short", nameof(destination));
        int unknown = 0;
        for (int i = 0; i < documentTokens.Count; i++)
        {
            if (!ids.TryGetValue(documentTokens[i], out int id))
            {
                id = SpecialTokens.UnknownId;
                unknown++;
            }
            destination[i] = id;
        }
        return unknown;
    }

    /// <summary>Ids of <paramref name="documentTokens"/>.</summary>
    public int[] Encode(IReadOnlyList<string> documentTokens)
    {
        var result = new int[documentTokens.Count];
        Encode(documentTokens, result);
        return result;
    }

    /// <summary>Token of <paramref name="id"/>.</summary>
    public string Decode(int id)
    {
        if ((uint)id >= (uint)tokens.Length) throw new ArgumentOutOfRangeException(nameof(id), id, $"the vocabulary has {tokens.Length} ids");
        return tokens[id];
    }

    /// <summary>Tokens of <paramref name="documentIds"/>.</summary>
    public string[] Decode(ReadOnlySpan<int> documentIds)
    {
        var result = new string[documentIds.Length];
        for (int i = 0; i < result.Length; i++) result[i] = Decode(documentIds[i]);
        return result;
    }

    /// <summary>Whether <paramref name="token"/> has its own id.</summary>
    public bool Contains(string token) => ids.ContainsKey(token);

    /// <summary>Cuts a vocabulary from <paramref name="counts"/>: specials, then the most frequent tokens seen at least
    /// <see cref="VocabularySettings.MinFrequency"/> times, at most <see cref="VocabularySettings.MaxSize"/> entries, then fillers.</summary>
    public static Vocabulary Build(TokenCounter counts, VocabularySettings? settings = null)
    {
        settings ??= new VocabularySettings();
        settings.Validate();
        IReadOnlyList<string> specials = SpecialTokens.All;
        var reserved = new HashSet<string>(specials, StringComparer.Ordinal) { Filler };
        var words = counts.Counts
            .Where(kv => kv.Value >= settings.MinFrequency && !reserved.Contains(kv.Key))
            .OrderByDescending(kv => kv.Value)
            .ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Take(settings.MaxSize - specials.Count)
            .Select(kv => kv.Key);
        var list = new List<string>(specials);
        list.AddRange(words);
        while (list.Count % 8 != 0) list.Add(Filler);
        return Create(list.ToArray(), settings, "<built vocabulary>");
    }

    /// <summary>
    /// A pretrained vocabulary grown by the task's own words: every entry of <paramref name="pretrained"/> keeps its id
    /// order (fillers dropped), then the task's most frequent tokens it lacks (seen at least
    /// <see cref="VocabularySettings.MinFrequency"/> times) until <see cref="VocabularySettings.MaxSize"/> entries, then
    /// fillers. Why: a vocabulary cut from a few hundred labelled documents alone maps most words of the documents the
    /// classifier later meets to <c>xxunk</c>, although the pretrained model knows them (IMDb, 100 reviews: a few
    /// thousand words against the LM's 20,000).
    /// </summary>
    public static Vocabulary Extend(Vocabulary pretrained, TokenCounter counts, VocabularySettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(pretrained);
        settings ??= new VocabularySettings();
        settings.Validate();
        var list = new List<string>(pretrained.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal) { Filler };
        foreach (string token in pretrained.Tokens)
            if (seen.Add(token)) list.Add(token); // specials come first in every vocabulary, so they stay in place
        var words = counts.Counts
            .Where(kv => kv.Value >= settings.MinFrequency && !seen.Contains(kv.Key))
            .OrderByDescending(kv => kv.Value)
            .ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Take(Math.Max(0, settings.MaxSize - list.Count))
            .Select(kv => kv.Key);
        list.AddRange(words);
        while (list.Count % 8 != 0) list.Add(Filler);
        return Create(list.ToArray(), settings, "<extended vocabulary>");
    }

    /// <summary>A vocabulary from entries in id order (an imported vocabulary); validated like a loaded file.</summary>
    public static Vocabulary FromTokens(IEnumerable<string> entries, string source = "<tokens>") => Create(entries.ToArray(), null, source);

    /// <summary>Writes the vocabulary as JSON (atomically: temporary file, then rename).</summary>
    public void Save(string path) => VocabularyFile.Save(this, path);

    /// <summary>Reads a vocabulary written by <see cref="Save"/>; a wrong version, missing specials or duplicate tokens are
    /// <see cref="InvalidInputException"/>s.</summary>
    public static Vocabulary Load(string path) => VocabularyFile.Load(path);

    internal static Vocabulary Create(string[] entries, VocabularySettings? builtWith, string source)
    {
        IReadOnlyList<string> specials = SpecialTokens.All;
        if (entries.Length < specials.Count)
            throw new InvalidInputException(source, null, null, $"vocabulary has {entries.Length} entries; the {specials.Count} special tokens alone need more");
        for (int i = 0; i < specials.Count; i++)
            if (!string.Equals(entries[i], specials[i], StringComparison.Ordinal))
                throw new InvalidInputException(source, null, null, $"special token '{specials[i]}' must have id {i}, found '{entries[i]}'");
        var ids = new Dictionary<string, int>(entries.Length, StringComparer.Ordinal);
        for (int i = 0; i < entries.Length; i++)
        {
            string token = entries[i];
            if (string.IsNullOrEmpty(token)) throw new InvalidInputException(source, null, null, $"vocabulary entry {i} is empty");
            if (token == Filler) continue; // padding: never produced by the tokenizer, so it gets no lookup entry
            if (!ids.TryAdd(token, i))
                throw new InvalidInputException(source, null, null, $"token '{token}' appears twice in the vocabulary (ids {ids[token]} and {i})");
        }
        return new Vocabulary(entries, ids, builtWith);
    }

    static byte[] ComputeHash(string[] entries)
    {
        // Length-prefixed so that ["ab","c"] and ["a","bc"] differ.
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (string token in entries)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(token);
            BinaryPrimitives.WriteInt32LittleEndian(length, utf8.Length);
            sha.AppendData(length);
            sha.AppendData(utf8);
        }
        return sha.GetHashAndReset();
    }
}
