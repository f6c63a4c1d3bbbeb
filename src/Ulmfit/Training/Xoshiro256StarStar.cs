using System.Globalization;

namespace Ulmfit.Training;

/// <summary>
/// A small, fast random number generator (xoshiro256**, Blackman &amp; Vigna 2018) whose whole state is four 64-bit
/// words, so a training run can write it to a checkpoint and continue with exactly the same draws.
/// <see cref="System.Random"/> cannot do that: its state is private.
/// </summary>
/// <remarks>Not thread-safe; one instance per consumer.</remarks>
public sealed class Xoshiro256StarStar
{
    ulong _s0, _s1, _s2, _s3;

    /// <summary>Seeds the four state words from one 64-bit seed through SplitMix64, as the algorithm's authors advise
    /// (it never yields the all-zero state).</summary>
    public Xoshiro256StarStar(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    Xoshiro256StarStar(ulong s0, ulong s1, ulong s2, ulong s3) => (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);

    /// <summary>One step of SplitMix64: also a good 64-bit mixer for deriving independent seeds.</summary>
    public static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A seed derived from <paramref name="seed"/> and a stream number, independent of other stream numbers.</summary>
    public static ulong DeriveSeed(ulong seed, ulong stream)
    {
        ulong x = seed ^ (stream * 0xD1B54A32D192ED03UL);
        SplitMix64(ref x);
        return SplitMix64(ref x);
    }

    /// <summary>The next 64 uniformly random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits (every double of the form k/2^53).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, <paramref name="maxExclusive"/>), without modulo bias (Lemire's method).</summary>
    public int NextInt(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        ulong range = (ulong)maxExclusive;
        while (true)
        {
            UInt128 product = (UInt128)NextUInt64() * range;
            ulong low = (ulong)product;
            // Reject the few low parts that would make some results more likely than others.
            if (low >= range || low >= (0UL - range) % range) return (int)(product >> 64);
        }
    }

    /// <summary>A standard normal draw (Box–Muller). Uses two uniforms per call and keeps no spare value, so the
    /// generator's four words remain its whole state.</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(); // (0, 1]: keeps log finite
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Shuffles <paramref name="items"/> in place (Fisher–Yates), every order equally likely.</summary>
    public void Shuffle(Span<int> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>An independent copy that will produce the same draws as this one from now on.</summary>
    public Xoshiro256StarStar Clone() => new(_s0, _s1, _s2, _s3);

    /// <summary>The state as 64 hex digits (four words), for checkpoints.</summary>
    public string SaveState() => $"{_s0:x16}{_s1:x16}{_s2:x16}{_s3:x16}";

    /// <summary>Recreates a generator from <see cref="SaveState"/>'s text.</summary>
    /// <exception cref="FormatException">The text is not 64 hex digits or is the (invalid) all-zero state.</exception>
    public static Xoshiro256StarStar FromState(string state)
    {
        if (state is not { Length: 64 } || !state.All(Uri.IsHexDigit))
            throw new FormatException($"random generator state must be 64 hex digits, got '{state}'");
        ulong Word(int i) => ulong.Parse(state.AsSpan(16 * i, 16), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var words = (Word(0), Word(1), Word(2), Word(3));
        if (words == (0UL, 0UL, 0UL, 0UL)) throw new FormatException("random generator state cannot be all zeros");
        return new Xoshiro256StarStar(words.Item1, words.Item2, words.Item3, words.Item4);
    }
}
