import Synchronization

/// Recycles large blocks of memory between tensors.
///
/// A training step allocates the same sizes, step after step: activations, gradients, the unfolded
/// patches of every convolution. Large blocks come from the operating system (`mmap`), and each
/// fresh block page-faults its way in — on small layers that costs more than the arithmetic. Freed
/// blocks wait here, by exact size, for the next request of that size.
enum MemoryPool {
    /// Blocks smaller than this are left to `malloc`, which already recycles them well.
    static let minimumPooledBytes = 1 << 16
    /// At most this many bytes wait in the pool; beyond it, freed blocks go back to the system.
    static let capacityBytes = 1 << 31

    /// Free blocks by size, as addresses (plain integers can cross into the lock).
    private struct State {
        var free: [Int: [UInt]] = [:]
        var pooledBytes = 0
    }
    private static let state = Mutex(State())

    /// A 64-byte aligned block of at least `byteCount` bytes; its contents are undefined.
    static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        let size = max(byteCount, 1)
        if size >= minimumPooledBytes {
            let reused = state.withLock { state -> UInt? in
                guard let address = state.free[size]?.popLast() else { return nil }
                state.pooledBytes -= size
                return address
            }
            if let reused, let block = UnsafeMutableRawPointer(bitPattern: reused) { return block }
        }
        return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    }

    /// Returns a block from `allocate(byteCount:)` with the same `byteCount`.
    static func release(_ block: UnsafeMutableRawPointer, byteCount: Int) {
        let size = max(byteCount, 1)
        if size >= minimumPooledBytes {
            let address = UInt(bitPattern: block)
            let kept = state.withLock { state -> Bool in
                guard state.pooledBytes + size <= capacityBytes else { return false }
                state.free[size, default: []].append(address)
                state.pooledBytes += size
                return true
            }
            if kept { return }
        }
        block.deallocate()
    }

    /// Scratch space for `count` elements of `T` during `body`.
    static func withScratch<T, R>(_: T.Type, count: Int, _ body: (UnsafeMutablePointer<T>) throws -> R) rethrows -> R {
        let bytes = count * MemoryLayout<T>.stride
        let block = allocate(byteCount: bytes)
        defer { release(block, byteCount: bytes) }
        return try body(block.bindMemory(to: T.self, capacity: count))
    }
}
