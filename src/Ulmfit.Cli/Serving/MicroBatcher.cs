using System.Collections.Concurrent;
using System.Diagnostics;
using Ulmfit.Classification;

namespace Ulmfit.Cli.Serving;

/// <summary>What one batched forward pass did, for metrics.</summary>
internal readonly record struct BatchRecord(int Texts, int Requests, TimeSpan Inference);

/// <summary>The queue is full: the request is refused rather than queued (HTTP 503).</summary>
internal sealed class QueueFullException(string message) : Exception(message);

/// <summary>
/// Dynamic micro-batching: requests from many callers are gathered into one batched prediction of up to
/// <c>maxBatch</c> texts, waiting at most <c>maxDelay</c> after the first text of a batch arrived; each caller gets
/// its own results, in its input order. A request larger than <c>maxBatch</c> is split over consecutive batches (and
/// may share its first and last with other requests).
/// </summary>
/// <remarks>
/// One dedicated thread runs every prediction: the model computes one batch at a time anyway (its recurrent state is
/// not shareable), libtorch's thread count is a per-thread setting that <c>initialiseWorker</c> makes once on it, and
/// while it computes, the next batch gathers in the queue. Thread-safe; <see cref="Complete"/> finishes what is
/// queued and stops the thread.
/// </remarks>
internal sealed class MicroBatcher : IDisposable
{
    readonly Func<IReadOnlyList<string>, IReadOnlyList<ClassificationPrediction>> _predict;
    readonly int _maxBatch;
    readonly long _maxDelayTicks;
    readonly int _maxQueuedTexts;
    readonly Action<BatchRecord>? _onBatch;
    readonly BlockingCollection<Pending> _queue = new(new ConcurrentQueue<Pending>());
    readonly Thread _worker;
    int _queuedTexts;

    /// <param name="predict">Batched prediction, results in input order (called on the worker thread only).</param>
    /// <param name="initialiseWorker">Runs first on the worker thread (per-thread engine settings).</param>
    public MicroBatcher(Func<IReadOnlyList<string>, IReadOnlyList<ClassificationPrediction>> predict, int maxBatch, TimeSpan maxDelay,
        int maxQueuedTexts = int.MaxValue, Action? initialiseWorker = null, Action<BatchRecord>? onBatch = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDelay, TimeSpan.Zero);
        _predict = predict;
        _maxBatch = maxBatch;
        _maxDelayTicks = (long)(maxDelay.TotalSeconds * Stopwatch.Frequency);
        _maxQueuedTexts = maxQueuedTexts;
        _onBatch = onBatch;
        _worker = new Thread(() =>
        {
            initialiseWorker?.Invoke();
            Run();
        }) { IsBackground = true, Name = "ulmfit-serve-inference" };
        _worker.Start();
    }

    /// <summary>Texts queued and not yet predicted.</summary>
    public int QueuedTexts => Volatile.Read(ref _queuedTexts);

    /// <summary>Predictions for <paramref name="texts"/>, in their order. Throws <see cref="QueueFullException"/> when
    /// more than the queue limit would be waiting, and <see cref="InvalidOperationException"/> after <see cref="Complete"/>.</summary>
    public Task<ClassificationPrediction[]> ClassifyAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        if (texts.Count == 0) return Task.FromResult(Array.Empty<ClassificationPrediction>());
        if (Interlocked.Add(ref _queuedTexts, texts.Count) > _maxQueuedTexts)
        {
            Interlocked.Add(ref _queuedTexts, -texts.Count);
            throw new QueueFullException($"the server is busy: more than {_maxQueuedTexts:N0} texts are waiting (--max-queued-texts); retry shortly");
        }
        var pending = new Pending(texts, cancellationToken);
        try
        {
            _queue.Add(pending);
        }
        catch (InvalidOperationException)
        {
            Interlocked.Add(ref _queuedTexts, -texts.Count);
            throw new InvalidOperationException("the server is shutting down");
        }
        return pending.Completion.Task;
    }

    /// <summary>Stops taking requests, predicts everything queued, and waits for the worker thread to end.</summary>
    public void Complete()
    {
        if (!_queue.IsAddingCompleted) _queue.CompleteAdding();
        _worker.Join();
    }

    public void Dispose()
    {
        Complete();
        _queue.Dispose();
    }

    void Run()
    {
        Pending? carry = null; // a request only partly placed in the last batch
        var slices = new List<Slice>(_maxBatch);
        var texts = new List<string>(_maxBatch);
        while (true)
        {
            slices.Clear();
            texts.Clear();
            Pending? first = carry;
            carry = null;
            if (first == null && !_queue.TryTake(out first, Timeout.Infinite)) return; // completed and empty
            carry = Place(first, slices, texts);
            long deadline = first.EnqueuedAt + _maxDelayTicks;
            while (carry == null && texts.Count < _maxBatch)
            {
                long wait = deadline - Stopwatch.GetTimestamp();
                // After the deadline, still take what is already queued (waiting 0), up to a full batch.
                int waitMs = wait <= 0 ? 0 : (int)Math.Ceiling(wait * 1000.0 / Stopwatch.Frequency);
                if (!_queue.TryTake(out Pending? next, waitMs)) break;
                carry = Place(next, slices, texts);
            }
            if (texts.Count > 0) Predict(slices, texts);
        }
    }

    /// <summary>Adds as much of <paramref name="pending"/> as fits; returns it when some is left for the next batch.</summary>
    Pending? Place(Pending pending, List<Slice> slices, List<string> texts)
    {
        // Failed in an earlier batch, or its caller has gone (the connection closed): skip what it still had to predict.
        if (pending.Completion.Task.IsCompleted || pending.CancellationToken.IsCancellationRequested)
        {
            Interlocked.Add(ref _queuedTexts, -(pending.Texts.Count - pending.Placed));
            pending.Completion.TrySetCanceled(pending.CancellationToken);
            return null;
        }
        int count = Math.Min(pending.Texts.Count - pending.Placed, _maxBatch - texts.Count);
        slices.Add(new Slice(pending, pending.Placed, count));
        for (int i = 0; i < count; i++) texts.Add(pending.Texts[pending.Placed + i]);
        pending.Placed += count;
        return pending.Placed < pending.Texts.Count ? pending : null;
    }

    void Predict(List<Slice> slices, List<string> texts)
    {
        long start = Stopwatch.GetTimestamp();
        IReadOnlyList<ClassificationPrediction> predictions;
        try
        {
            predictions = _predict(texts);
            if (predictions.Count != texts.Count)
                throw new InvalidOperationException($"the model returned {predictions.Count} predictions for {texts.Count} texts");
        }
        catch (Exception e)
        {
            Interlocked.Add(ref _queuedTexts, -texts.Count);
            foreach (var slice in slices) slice.Request.Completion.TrySetException(e);
            return;
        }
        int offset = 0;
        foreach (var (request, from, count) in slices)
        {
            for (int i = 0; i < count; i++) request.Results[from + i] = predictions[offset + i];
            offset += count;
            request.Done += count;
        }
        // The queue count and the batch record are settled before any caller is answered, so a caller that has its
        // results sees metrics that already include the batch that made them.
        Interlocked.Add(ref _queuedTexts, -texts.Count);
        _onBatch?.Invoke(new BatchRecord(texts.Count, slices.Count, Stopwatch.GetElapsedTime(start)));
        foreach (var slice in slices)
            if (slice.Request.Done == slice.Request.Texts.Count) slice.Request.Completion.TrySetResult(slice.Request.Results);
    }

    /// <summary>One caller's texts; <see cref="Placed"/> and <see cref="Done"/> are touched by the worker thread only.</summary>
    sealed class Pending(IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        public IReadOnlyList<string> Texts { get; } = texts;
        public ClassificationPrediction[] Results { get; } = new ClassificationPrediction[texts.Count];
        public CancellationToken CancellationToken { get; } = cancellationToken;
        public long EnqueuedAt { get; } = Stopwatch.GetTimestamp();
        // Continuations run off the worker thread, so writing a response never delays the next batch.
        public TaskCompletionSource<ClassificationPrediction[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Placed { get; set; }
        public int Done { get; set; }
    }

    readonly record struct Slice(Pending Request, int From, int Count);
}
