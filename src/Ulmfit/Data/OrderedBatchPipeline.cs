namespace Ulmfit.Data;

/// <summary>
/// Runs an expensive step (tokenization) on several threads while keeping the input order: documents are read
/// on the calling thread and cut into batches; at most two batches per thread are in flight; results are handed
/// to the consumer on the calling thread, in input order. The output therefore does not depend on the number of
/// threads or on the scheduling, and memory stays bounded however large the input is.
/// </summary>
internal static class OrderedBatchPipeline
{
    public static void Run<TResult>(IEnumerable<TextDocument> documents, int threads, int maxBatchDocuments, long maxBatchCharacters,
        Func<TextDocument[], TResult> work, Action<TResult> consume, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        TaskScheduler scheduler = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, threads).ConcurrentScheduler;
        var inFlight = new Queue<Task<TResult>>();
        int maxInFlight = 2 * threads;
        try
        {
            foreach (TextDocument[] batch in Batches(documents, maxBatchDocuments, maxBatchCharacters))
            {
                cancellationToken.ThrowIfCancellationRequested();
                inFlight.Enqueue(Task.Factory.StartNew(() => work(batch), cancellationToken, TaskCreationOptions.None, scheduler));
                while (inFlight.Count >= maxInFlight) consume(inFlight.Dequeue().GetAwaiter().GetResult());
            }
            while (inFlight.Count > 0) consume(inFlight.Dequeue().GetAwaiter().GetResult());
        }
        finally
        {
            // On an error, let the batches still running finish before the caller cleans up; their own
            // errors are secondary to the one already propagating.
            try { Task.WaitAll(inFlight.ToArray()); }
            catch (AggregateException) { }
        }
    }

    static IEnumerable<TextDocument[]> Batches(IEnumerable<TextDocument> documents, int maxDocuments, long maxCharacters)
    {
        var batch = new List<TextDocument>(maxDocuments);
        long characters = 0;
        foreach (TextDocument document in documents)
        {
            batch.Add(document);
            characters += document.CharacterCount;
            if (batch.Count >= maxDocuments || characters >= maxCharacters)
            {
                yield return batch.ToArray();
                batch.Clear();
                characters = 0;
            }
        }
        if (batch.Count > 0) yield return batch.ToArray();
    }
}
