namespace Ulmfit.Engine;

/// <summary>The instruction set the fused int8 LSTM kernel (<c>native/int8_lstm.c</c>) computes with. Every path
/// computes the same int32 sums from the same quantized bytes and the same float epilogue, so they agree to float
/// rounding; they differ only in speed.</summary>
public enum Int8LstmPath
{
    /// <summary>Plain C: the reference the other paths are tested against; slower than fp32, never chosen for speed.</summary>
    Scalar = 0,

    /// <summary>AVX2 with FMA: <c>vpmaddubsw</c> + <c>vpmaddwd</c>, the sign of each activation moved to the weights so
    /// no int16 pair sum saturates.</summary>
    Avx2 = 1,

    /// <summary>AVX-512 VNNI: <c>vpdpbusd</c>, activations stored with a +128 offset and the sums corrected.</summary>
    Avx512Vnni = 2,

    /// <summary>AVX-VNNI: the VEX-encoded <c>vpdpbusd</c> on 256-bit registers (CPUs with AVX2 and AVX-VNNI but no
    /// AVX-512), with the AVX2 path's blocking and AVX-512 VNNI's +128 offset.</summary>
    AvxVnni = 3,
}
