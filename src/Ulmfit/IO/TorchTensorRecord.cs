using System.Buffers.Binary;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Ulmfit.IO;

/// <summary>One storage (flat typed buffer) of a PyTorch file. Several tensors may view the same storage (fastai's
/// tied embedding and decoder do); they then share one of these.</summary>
public sealed class TorchStorage
{
    internal TorchStorage(string key, SafetensorsDType dtype, long elementCount)
    {
        Key = key;
        DType = dtype;
        ElementCount = elementCount;
    }

    /// <summary>The storage's key in the file (zip entry <c>data/KEY</c>, or the legacy format's key).</summary>
    public string Key { get; }

    /// <summary>Element type (from the storage class: <c>torch.FloatStorage</c> is F32, …).</summary>
    public SafetensorsDType DType { get; }

    /// <summary>Number of elements.</summary>
    public long ElementCount { get; }

    /// <summary>Bytes of data.</summary>
    public long ByteLength => ElementCount * DType.ElementSize();

    /// <summary>The raw little-endian bytes, once read.</summary>
    internal byte[]? Data { get; set; }
}

/// <summary>
/// A tensor of a PyTorch state dict as the file describes it: a view (<see cref="Shape"/>, <see cref="Strides"/>,
/// <see cref="StorageOffset"/>, in elements) into a <see cref="TorchStorage"/>. Its bounds were checked when it was read:
/// every element the view can address lies inside the storage.
/// </summary>
public sealed class TorchTensorRecord
{
    internal TorchTensorRecord(TorchStorage storage, long storageOffset, long[] shape, long[] strides, long elementCount)
    {
        Storage = storage;
        StorageOffset = storageOffset;
        Shape = shape;
        Strides = strides;
        ElementCount = elementCount;
    }

    /// <summary>The storage this tensor views.</summary>
    public TorchStorage Storage { get; }

    /// <summary>Offset of element [0, 0, …] in the storage, in elements.</summary>
    public long StorageOffset { get; }

    /// <summary>Dimensions, outermost first.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Step in elements along each dimension.</summary>
    public IReadOnlyList<long> Strides { get; }

    /// <summary>Product of <see cref="Shape"/>.</summary>
    public long ElementCount { get; }

    /// <summary>Element type.</summary>
    public SafetensorsDType DType => Storage.DType;

    /// <summary>Whether the elements lie in row-major order with no holes.</summary>
    public bool IsContiguous
    {
        get
        {
            long expected = 1;
            for (int d = Shape.Count - 1; d >= 0; d--)
            {
                if (Shape[d] != 1 && Strides[d] != expected) return false;
                expected *= Shape[d];
            }
            return true;
        }
    }

    /// <summary>Whether this tensor and <paramref name="other"/> view the same storage.</summary>
    public bool SharesStorageWith(TorchTensorRecord other) => ReferenceEquals(Storage, other.Storage);

    /// <summary>The values in row-major order as float32 (F64, F16 and BF16 are converted).</summary>
    public float[] ToFloatArray()
    {
        byte[] data = Storage.Data ?? throw new InvalidOperationException($"Storage '{Storage.Key}' has not been read.");
        if (!DType.IsFloatingPoint()) throw new InvalidOperationException($"Tensor of {DType.Name()} is not floating point.");
        var values = new float[ElementCount];
        int size = DType.ElementSize();
        if (DType == SafetensorsDType.F32 && IsContiguous && BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, float>(data.AsSpan(checked((int)(StorageOffset * 4)), checked((int)(ElementCount * 4)))).CopyTo(values);
            return values;
        }
        // Walk the view with an odometer over the indices (no recursion, any rank).
        int rank = Shape.Count;
        var index = new long[rank];
        long position = StorageOffset;
        for (long i = 0; i < ElementCount; i++)
        {
            values[i] = Element(data.AsSpan(checked((int)(position * size)), size));
            for (int d = rank - 1; d >= 0; d--)
            {
                index[d]++;
                position += Strides[d];
                if (index[d] < Shape[d]) break;
                position -= Strides[d] * Shape[d];
                index[d] = 0;
            }
        }
        return values;
    }

    float Element(ReadOnlySpan<byte> bytes) => DType switch
    {
        SafetensorsDType.F32 => BinaryPrimitives.ReadSingleLittleEndian(bytes),
        SafetensorsDType.F64 => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes),
        SafetensorsDType.F16 => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes),
        SafetensorsDType.BF16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes) << 16),
        _ => throw new InvalidOperationException($"{DType.Name()} is not floating point."),
    };

    /// <summary>A new contiguous float32 engine tensor with these values; the caller owns it (it belongs to no dispose
    /// scope).</summary>
    public Tensor ToTensor()
    {
        long[] shape = [.. Shape];
        byte[] data = Storage.Data ?? throw new InvalidOperationException($"Storage '{Storage.Key}' has not been read.");
        if (DType == SafetensorsDType.F32 && IsContiguous && BitConverter.IsLittleEndian)
        {
            // Straight from the storage bytes into the tensor's memory: no intermediate float array.
            Tensor result = empty(shape, ScalarType.Float32).DetachFromDisposeScope();
            if (ElementCount > 0)
                data.AsSpan(checked((int)(StorageOffset * 4)), checked((int)(ElementCount * 4))).CopyTo(result.bytes);
            return result;
        }
        return tensor(ToFloatArray(), shape).DetachFromDisposeScope();
    }
}
