/// Shape arithmetic: element counts, row-major strides and NumPy broadcasting.
public enum Shape {
    /// The number of elements of a tensor with this shape (1 for a scalar `[]`).
    public static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// The bytes an array of `shape` takes with `elementSize`-byte elements, or nil when a size is
    /// negative or the product does not fit in an `Int`.
    ///
    /// Every file reader sizes what a header claims with this before comparing it with the bytes
    /// present or allocating anything: a header is untrusted, and `2^62 × 4` would trap.
    public static func checkedByteCount(_ shape: [Int], elementSize: Int = 1) -> Int? {
        guard elementSize >= 0, shape.allSatisfy({ $0 >= 0 }) else { return nil }
        if shape.contains(0) { return 0 }
        var product = elementSize
        for size in shape {
            let (next, overflow) = product.multipliedReportingOverflow(by: size)
            guard !overflow else { return nil }
            product = next
        }
        return product
    }

    /// Row-major (C order) strides in elements.
    public static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in shape.indices.reversed() {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// The shape two operands broadcast to, by NumPy's rule: align trailing axes; sizes must be
    /// equal or one of them 1. Returns nil when they do not broadcast.
    public static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 { result[i] = da } else if da == 1 { result[i] = db } else { return nil }
        }
        return result
    }

    /// Strides that read an operand of `shape` as if it had `target` shape: 0 on broadcast axes.
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(shape)
        let offset = target.count - shape.count
        return target.indices.map { axis in
            axis < offset || shape[axis - offset] == 1 ? 0 : own[axis - offset]
        }
    }

    /// Normalises a possibly negative axis (`-1` is the last) and checks its range.
    public static func axis(_ axis: Int, rank: Int, _ context: @autoclosure () -> String) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        require(resolved >= 0 && resolved < rank, "\(context()): axis \(axis) out of range for rank \(rank)")
        return resolved
    }

    /// A readable rendering, `[2, 3]`.
    static func text(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
}
