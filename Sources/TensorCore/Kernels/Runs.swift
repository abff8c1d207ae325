import Foundation

/// Copies and zero fills of contiguous runs, most of them short: the rows of small feature maps
/// (4 to 32 elements) that convolutions move between layouts. A library call per row costs more
/// than such a row's copy, so short runs go through vector loads and stores inline; long ones
/// still go to `memmove` and `memset`, which are faster there.
///
/// The work is on bytes, not on `T`: a generic vector loop that a caller in another file reaches
/// unspecialised (debug builds compile file by file) would look up its vector types at every call.
enum Runs {
    /// Runs of at least this many bytes go to the library.
    static let libraryFromBytes = 1024

    /// target[0..<count] = source[0..<count]; the two must not overlap.
    @inline(__always)
    static func copy<T: TensorScalar>(_ source: UnsafePointer<T>, to target: UnsafeMutablePointer<T>, count: Int) {
        copyBytes(UnsafeRawPointer(source), to: UnsafeMutableRawPointer(target), byteCount: count &* MemoryLayout<T>.stride)
    }

    /// target[0..<count] = 0.
    @inline(__always)
    static func zero<T: TensorScalar>(_ target: UnsafeMutablePointer<T>, count: Int) {
        zeroBytes(UnsafeMutableRawPointer(target), byteCount: count &* MemoryLayout<T>.stride)
    }

    /// Copies in 64-, 32- and 16-byte vectors, then 4-byte words (runs of Float and Double are
    /// whole words).
    @inline(__always)
    static func copyBytes(_ source: UnsafeRawPointer, to target: UnsafeMutableRawPointer, byteCount: Int) {
        guard byteCount < libraryFromBytes else { return target.copyMemory(from: source, byteCount: byteCount) }
        @inline(__always) func move<V>(_: V.Type, at offset: Int) {
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: offset, as: V.self), toByteOffset: offset, as: V.self)
        }
        var offset = 0
        while offset &+ 64 <= byteCount { move(SIMD16<Float>.self, at: offset); offset &+= 64 }
        if offset &+ 32 <= byteCount { move(SIMD8<Float>.self, at: offset); offset &+= 32 }
        if offset &+ 16 <= byteCount { move(SIMD4<Float>.self, at: offset); offset &+= 16 }
        while offset < byteCount { move(UInt32.self, at: offset); offset &+= 4 }
    }

    /// Zeroes in 64-, 32- and 16-byte vectors, then 4-byte words.
    @inline(__always)
    static func zeroBytes(_ target: UnsafeMutableRawPointer, byteCount: Int) {
        guard byteCount < libraryFromBytes else { memset(target, 0, byteCount); return }
        var offset = 0
        while offset &+ 64 <= byteCount { target.storeBytes(of: SIMD16<Float>(), toByteOffset: offset, as: SIMD16<Float>.self); offset &+= 64 }
        if offset &+ 32 <= byteCount { target.storeBytes(of: SIMD8<Float>(), toByteOffset: offset, as: SIMD8<Float>.self); offset &+= 32 }
        if offset &+ 16 <= byteCount { target.storeBytes(of: SIMD4<Float>(), toByteOffset: offset, as: SIMD4<Float>.self); offset &+= 16 }
        while offset < byteCount { target.storeBytes(of: UInt32(0), toByteOffset: offset, as: UInt32.self); offset &+= 4 }
    }
}
