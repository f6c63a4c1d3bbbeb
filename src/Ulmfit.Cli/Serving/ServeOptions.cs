namespace Ulmfit.Cli.Serving;

/// <summary>
/// How <c>ulmfit serve</c> listens, batches and limits requests. The defaults here are the only ones: the command's
/// options take theirs from <see cref="Default"/>.
/// </summary>
internal sealed record ServeOptions
{
    /// <summary>The defaults of every <c>ulmfit serve</c> option.</summary>
    public static ServeOptions Default { get; } = new();

    /// <summary>Address to listen on: an IP address, or <c>localhost</c>. Loopback by default, so a served model is
    /// not reachable from other machines unless asked for (<c>--host 0.0.0.0</c>).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (the <c>listening on</c> line names it).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>Most texts in one batched forward pass. 64 short texts already fill the recurrent matrix products well
    /// on one core, and keep the latency of a full batch near that of a few texts.</summary>
    public int MaxBatch { get; init; } = 64;

    /// <summary>How long the first text of a batch waits for others to join it. A few milliseconds is small next to
    /// one forward pass of a batch, and lets single-text clients share one.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Most texts in one request (larger requests are split into batches, but have to fit in memory).</summary>
    public int MaxTexts { get; init; } = 1024;

    /// <summary>Most characters in one text: about 40 pages. Classifiers read a document to its end, so this bounds
    /// the time one text can take.</summary>
    public int MaxTextChars { get; init; } = 100_000;

    /// <summary>Largest request body in bytes (4 MiB: 1,024 texts of 4 KB).</summary>
    public long MaxBodyBytes { get; init; } = 4L << 20;

    /// <summary>Most texts waiting for the model at once; beyond it requests get 503 at once instead of queueing
    /// without bound (memory) and timing out (latency). 64 full requests' worth.</summary>
    public int MaxQueuedTexts { get; init; } = 64 * 1024;

    /// <summary>How long in-flight requests get to finish after SIGTERM or Ctrl+C before the server stops anyway. A
    /// request takes milliseconds to a second (a full queue of long texts), so 5 s is ample and still well inside the
    /// usual grace of process managers (10 s in Docker and Kubernetes) before they kill.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The lowest level of log lines (request log lines are Information) written to stderr.</summary>
    public Microsoft.Extensions.Logging.LogLevel LogLevel { get; init; } = Microsoft.Extensions.Logging.LogLevel.Warning;

    /// <summary>Every rule these options break, as option-named messages (empty when they are usable).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Host)) problems.Add("--host must not be empty");
        else if (!Host.Equals("localhost", StringComparison.OrdinalIgnoreCase) && !System.Net.IPAddress.TryParse(Host, out _))
            problems.Add($"--host must be an IP address or localhost (got '{Host}')");
        if (Port is < 0 or > 65535) problems.Add($"--port must be between 0 and 65535 (got {Port})");
        if (MaxBatch < 1) problems.Add($"--max-batch must be at least 1 (got {MaxBatch})");
        if (MaxDelay < TimeSpan.Zero) problems.Add($"--max-delay-ms must be 0 or more (got {MaxDelay.TotalMilliseconds})");
        if (MaxTexts < 1) problems.Add($"--max-texts must be at least 1 (got {MaxTexts})");
        if (MaxTextChars < 1) problems.Add($"--max-text-chars must be at least 1 (got {MaxTextChars})");
        if (MaxBodyBytes < 16) problems.Add($"--max-body-bytes must be at least 16 (got {MaxBodyBytes})");
        if (MaxQueuedTexts < MaxTexts) problems.Add($"--max-queued-texts ({MaxQueuedTexts}) must be at least --max-texts ({MaxTexts}), or no full request could ever be queued");
        return problems;
    }
}
