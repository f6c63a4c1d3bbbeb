namespace Ulmfit.Tests.Training;

/// <summary>
/// Tests that seed, consume or compare libtorch's process-wide random generator (dropout masks, weight init). They
/// run alone, after the parallel tests, because any test drawing from that generator at the same time would change
/// their numbers.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchRandomCollection
{
    public const string Name = "libtorch random state";
}
