using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ulmfit.Classification;

/// <summary>
/// The classifier head on top of concat pooling (fastai's <c>PoolingLinearClassifier</c> after pooling): two blocks of
/// BatchNorm1d → Dropout → Linear, with a ReLU after the first: pooled (batch, 3·emb) → (batch, hidden) → (batch, classes).
/// </summary>
/// <remarks>
/// As in fastai v2's <c>LinBnDrop</c>, the linear layers have no bias: each follows a batch norm whose shift already
/// adds a learned constant to every input, so a bias would duplicate it. Initialisation as fastai: linear weights
/// Kaiming-normal, batch-norm scale 1 and shift 1e-3.
/// <para>State-dict keys (stable; renaming breaks saved models): <c>batch_norm0.{weight, bias, running_mean,
/// running_var, num_batches_tracked}</c>, <c>linear0.weight</c> (hidden, 3·emb), <c>batch_norm1.*</c>,
/// <c>linear1.weight</c> (classes, hidden).</para>
/// </remarks>
public sealed class PoolingClassifierHead : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are state-dict keys
    readonly BatchNorm1d batch_norm0;
    readonly Dropout dropout0;
    readonly Linear linear0;
    readonly BatchNorm1d batch_norm1;
    readonly Dropout dropout1;
    readonly Linear linear1;
#pragma warning restore IDE1006

    /// <summary>Builds the head: <paramref name="inputSize"/> pooled features, a hidden layer of
    /// <paramref name="hiddenSize"/>, <paramref name="classCount"/> outputs, dropouts before each linear layer.</summary>
    public PoolingClassifierHead(long inputSize, long hiddenSize, long classCount, double inputDropout, double hiddenDropout,
        string name = nameof(PoolingClassifierHead)) : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        batch_norm0 = nn.BatchNorm1d(inputSize);
        dropout0 = nn.Dropout(inputDropout);
        linear0 = nn.Linear(inputSize, hiddenSize, hasBias: false);
        batch_norm1 = nn.BatchNorm1d(hiddenSize);
        dropout1 = nn.Dropout(hiddenDropout);
        linear1 = nn.Linear(hiddenSize, classCount, hasBias: false);
        RegisterComponents();
        using (no_grad())
        {
            foreach (var norm in new[] { batch_norm0, batch_norm1 })
            {
                norm.weight!.fill_(1.0);
                norm.bias!.fill_(1e-3);
            }
            nn.init.kaiming_normal_(linear0.weight!);
            nn.init.kaiming_normal_(linear1.weight!);
        }
        InputSize = inputSize;
        ClassCount = classCount;
    }

    /// <summary>Pooled features expected per document.</summary>
    public long InputSize { get; }

    /// <summary>Output columns.</summary>
    public long ClassCount { get; }

    /// <summary>Maps pooled features (batch, 3·emb) to logits (batch, classes).</summary>
    public override Tensor forward(Tensor pooled)
    {
        if (pooled.dim() != 2 || pooled.shape[1] != InputSize)
            throw new ArgumentException($"the head expects pooled features (batch, {InputSize}), got [{string.Join(", ", pooled.shape)}].");
        // The head is small and starts with a batch norm: it always computes in its parameters' type (float32), even
        // when the encoder ran in bf16.
        using var input = pooled.to(batch_norm0.weight!.dtype);
        using var normed0 = batch_norm0.call(input);          // (batch, 3·emb)
        using var dropped0 = dropout0.call(normed0);
        using var hidden = linear0.call(dropped0);            // (batch, hidden)
        using var activated = nn.functional.relu(hidden);
        using var normed1 = batch_norm1.call(activated);
        using var dropped1 = dropout1.call(normed1);
        return linear1.call(dropped1);                        // (batch, classes)
    }
}
