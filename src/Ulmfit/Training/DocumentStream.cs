using Ulmfit.Data;

namespace Ulmfit.Training;

/// <summary>
/// The documents of one epoch laid end to end in a given order, read by position without ever materialising the
/// whole stream (a pre-training corpus can be hundreds of millions of tokens). Only a prefix sum of document lengths
/// is kept; each reader caches the one document it is in, so walking a row forward costs one copy per document.
/// </summary>
internal sealed class DocumentStream
{
    readonly ITokenDocuments _documents;
    readonly int[] _order;
    readonly long[] _starts; // _starts[i]: stream position of the first token of _order[i]; _starts[^1] = total
    readonly bool _backwards;

    public DocumentStream(ITokenDocuments documents, int[] order, bool backwards)
    {
        _documents = documents;
        _order = order;
        _backwards = backwards;
        _starts = new long[order.Length + 1];
        for (int i = 0; i < order.Length; i++) _starts[i + 1] = _starts[i] + documents.Length(order[i]);
    }

    /// <summary>Tokens in the whole stream.</summary>
    public long Length => _starts[^1];

    /// <summary>A reader with its own one-document cache (use one per batch row).</summary>
    public Reader CreateReader() => new(this);

    /// <summary>Index into the order of the document holding stream position <paramref name="position"/>.</summary>
    int Locate(long position)
    {
        // Largest i with _starts[i] <= position; empty documents share a start with their successor and are skipped.
        int found = Array.BinarySearch(_starts, position);
        if (found < 0) return ~found - 1;
        while (found + 1 < _order.Length && _starts[found + 1] == position) found++;
        return found;
    }

    /// <summary>Copies stream tokens from successive documents, keeping the current document in a buffer.</summary>
    internal sealed class Reader(DocumentStream stream)
    {
        int _cached = -1; // index into the order of the buffered document
        int[] _buffer = [];

        /// <summary>Fills <paramref name="destination"/> with the tokens at stream positions
        /// [<paramref name="start"/>, start + destination.Length), which must lie inside the stream.</summary>
        public void Read(long start, Span<long> destination)
        {
            if (start < 0 || start + destination.Length > stream.Length)
                throw new ArgumentOutOfRangeException(nameof(start), start, $"reading {destination.Length} tokens runs past the stream's {stream.Length}");
            long position = start;
            int written = 0;
            while (written < destination.Length)
            {
                int index = Covers(position) ? _cached : Load(Next(position));
                long offsetInDocument = position - stream._starts[index];
                int available = (int)(stream._starts[index + 1] - position);
                int take = Math.Min(available, destination.Length - written);
                var source = _buffer.AsSpan((int)offsetInDocument, take);
                for (int i = 0; i < take; i++) destination[written + i] = source[i];
                written += take;
                position += take;
            }
        }

        bool Covers(long position) =>
            _cached >= 0 && position >= stream._starts[_cached] && position < stream._starts[_cached + 1];

        int Next(long position)
        {
            // Rows walk forward, so the wanted document is usually the one after the cached one (past a few empty
            // ones at most); anything else is a jump (a restored position) and is found by binary search.
            int next = _cached + 1;
            for (int tries = 0; tries < 8 && next < stream._order.Length && stream._starts[next] <= position; tries++, next++)
                if (position < stream._starts[next + 1]) return next;
            return stream.Locate(position);
        }

        int Load(int index)
        {
            int document = stream._order[index];
            int length = stream._documents.Length(document);
            if (_buffer.Length < length) _buffer = new int[Math.Max(length, _buffer.Length * 2)];
            stream._documents.CopyTo(document, _buffer);
            if (stream._backwards) Array.Reverse(_buffer, 0, length);
            _cached = index;
            return index;
        }
    }
}
