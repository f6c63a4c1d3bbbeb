using Ulmfit.Data;
using Ulmfit.Text;

namespace Ulmfit.IO;

/// <summary>
/// Puts a fastai vocabulary (<c>itos</c>) into our id order. fastai 2 lists the special tokens first in the same
/// order as <see cref="SpecialTokens.All"/>, and then nothing changes. Other releases (fastai 1 put <c>xxmaj</c> and
/// <c>xxup</c> before <c>xxrep</c>, and some lack <c>xxeos</c>) are reordered: specials first in our order, every
/// other token after them in its original order; a special the file lacks gets a new row, the mean of all rows
/// (fastai's own rule for tokens a pretrained model never saw). <see cref="SourceRow"/> says where each new row
/// comes from, so the embedding and the decoder bias can be permuted to match.
/// </summary>
internal sealed class FastaiVocabularyMapping
{
    FastaiVocabularyMapping(Vocabulary vocabulary, int[]? sourceRow, IReadOnlyList<string> changes)
    {
        Vocabulary = vocabulary;
        SourceRow = sourceRow;
        Changes = changes;
    }

    /// <summary>The vocabulary in our order.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>For each new id, the fastai row it takes (−1: the mean row); null when the order is unchanged.</summary>
    public int[]? SourceRow { get; }

    /// <summary>What was moved or added, in words (empty when nothing was).</summary>
    public IReadOnlyList<string> Changes { get; }

    public static FastaiVocabularyMapping Create(IReadOnlyList<string> itos, string source)
    {
        IReadOnlyList<string> specials = SpecialTokens.All;
        var position = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < itos.Count; i++)
            if (specials.Contains(itos[i], StringComparer.Ordinal) && !position.TryAdd(itos[i], i))
                throw new ModelFileException(source, $"special token '{itos[i]}' appears twice (ids {position[itos[i]]} and {i})");

        bool inPlace = itos.Count >= specials.Count && Enumerable.Range(0, specials.Count).All(i => itos[i] == specials[i]);
        if (inPlace) return new FastaiVocabularyMapping(Build(itos, source), null, []);

        var order = new List<string>(itos.Count + specials.Count);
        var rows = new List<int>(itos.Count + specials.Count);
        var changes = new List<string>();
        for (int id = 0; id < specials.Count; id++)
        {
            string token = specials[id];
            order.Add(token);
            if (position.TryGetValue(token, out int from))
            {
                rows.Add(from);
                if (from != id) changes.Add($"moved '{token}' from id {from} to {id}");
            }
            else
            {
                rows.Add(-1);
                changes.Add($"added '{token}' as id {id} with the mean embedding");
            }
        }
        for (int i = 0; i < itos.Count; i++)
        {
            if (position.ContainsKey(itos[i])) continue;
            order.Add(itos[i]);
            rows.Add(i);
        }
        return new FastaiVocabularyMapping(Build(order, source), [.. rows], changes);
    }

    static Vocabulary Build(IReadOnlyList<string> tokens, string source)
    {
        try
        {
            return Vocabulary.FromTokens(tokens, source);
        }
        catch (InvalidInputException e)
        {
            throw new ModelFileException(source, e.Problem, e);
        }
    }
}
