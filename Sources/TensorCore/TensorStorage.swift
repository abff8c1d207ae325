/// Contiguous, 64-byte aligned memory for a tensor's elements.
///
/// A tensor and the views made from it without copying (`reshaped`, `detached`) share one
/// storage. Only optimizers write into a storage after it was filled, in place, between steps.
final class TensorStorage: @unchecked Sendable {
    let dtype: DType
    let count: Int
    let raw: UnsafeMutableRawPointer

    /// Allocates `count` elements whose values are undefined until written. Not zero-filling them
    /// saves a pass over memory for the many outputs a kernel overwrites in full anyway.
    init(dtype: DType, count: Int) {
        require(count >= 0, "tensor storage: negative element count \(count)")
        self.dtype = dtype
        self.count = count
        let bytes = count * dtype.byteCount
        raw = MemoryPool.allocate(byteCount: bytes)
    }

    deinit { MemoryPool.release(raw, byteCount: count * dtype.byteCount) }

    /// The elements as a typed buffer; `T` must match the dtype.
    @inline(__always)
    func buffer<T: TensorScalar>(_: T.Type) -> UnsafeMutableBufferPointer<T> {
        assert(T.dtype == dtype, "storage holds \(dtype), read as \(T.dtype)")
        return UnsafeMutableBufferPointer(start: raw.assumingMemoryBound(to: T.self), count: count)
    }
}
