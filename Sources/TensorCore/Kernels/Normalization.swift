/// Where the elements of each normalised row lie: `segments` runs of `segmentLength` contiguous
/// elements, `segmentStride` apart, the first at `row · rowStride`. A group norm's row is one
/// sample's group of channels (one run); a batch norm's is one channel of every sample (one run
/// per sample).
struct NormalizationRows {
    let count: Int, rowStride: Int
    let segments: Int, segmentLength: Int, segmentStride: Int
    var length: Int { segments * segmentLength }

    /// Rows of `rowLength` contiguous elements, one after another.
    static func contiguous(count: Int, rowLength: Int) -> NormalizationRows {
        NormalizationRows(count: count, rowStride: rowLength, segments: 1, segmentLength: rowLength, segmentStride: rowLength)
    }

    /// Σ term(offset) over the row's element offsets, in Double, run by run.
    @inline(__always)
    func sum(_ row: Int, _ term: (Int) -> Double) -> Double {
        var total = 0.0
        for segment in 0..<segments {
            let start = row * rowStride + segment * segmentStride
            total += NormalizationKernels.sum(segmentLength) { term(start + $0) }
        }
        return total
    }

    /// Σ over the row of `lanes(offset)`, eight elements at a time from each run's start, with
    /// `single(offset)` for the last few of a run: the same sum as `sum`, vectorised.
    @inline(__always)
    func sum(_ row: Int, lanes: (Int) -> SIMD8<Double>, single: (Int) -> Double) -> Double {
        var total = 0.0
        for segment in 0..<segments {
            let start = row * rowStride + segment * segmentStride
            var partial = SIMD8<Double>(), i = 0
            while i + 8 <= segmentLength { partial += lanes(start + i); i += 8 }
            total += partial.sum()
            while i < segmentLength { total += single(start + i); i += 1 }
        }
        return total
    }

    /// Calls `body(offset)` for every element of the row.
    @inline(__always)
    func forEach(_ row: Int, _ body: (Int) -> Void) {
        for segment in 0..<segments {
            let start = row * rowStride + segment * segmentStride
            for i in 0..<segmentLength { body(start + i) }
        }
    }
}

/// Group and batch normalisation's forward and backward over the rows of a `NormalizationRows`,
/// one row per task.
///
/// Each row's sums are taken in Double in a fixed order, whichever thread runs it, so results do
/// not depend on the thread count.
enum NormalizationKernels {
    /// x̂ = (x − mean) / √(variance + ε) per row, each row's 1 / √(variance + ε) for the backward,
    /// and, when asked, each row's mean and (biased) variance side by side in `moments`. The variance
    /// is summed around the mean (a second pass), so a large offset does not cancel it away.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func normalize<T: TensorScalar>(_ x: UnsafeMutableBufferPointer<T>, _ rows: NormalizationRows, epsilon: Double,
                                           _ normalized: UnsafeMutableBufferPointer<T>,
                                           inverseDeviations: UnsafeMutableBufferPointer<T>,
                                           moments: UnsafeMutableBufferPointer<T>? = nil) {
        let pointers = SendableBox((x.baseAddress!, normalized.baseAddress!, inverseDeviations.baseAddress!, moments?.baseAddress))
        Parallel.forEach(rows.count) { row in
            let (input, output, inverseDeviations, moments) = pointers.value
            let mean: Double, variance: Double
            if T.self == Float.self {
                // Float rows are widened to Double eight at a time (one instruction, not one per element).
                let x = UnsafeRawPointer(input).assumingMemoryBound(to: Float.self)
                @inline(__always) func wide(_ i: Int) -> SIMD8<Double> { SIMD8<Double>(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)) }
                mean = rows.sum(row, lanes: wide, single: { Double(x[$0]) }) / Double(rows.length)
                variance = rows.sum(row, lanes: { let d = wide($0) - mean; return d * d },
                                    single: { (Double(x[$0]) - mean) * (Double(x[$0]) - mean) }) / Double(rows.length)
            } else {
                mean = rows.sum(row) { Double(input[$0]) } / Double(rows.length)
                variance = rows.sum(row) { (Double(input[$0]) - mean) * (Double(input[$0]) - mean) } / Double(rows.length)
            }
            let shift = T(mean), scale = T(1 / (variance + epsilon).squareRoot())
            rows.forEach(row) { output[$0] = (input[$0] - shift) * scale }
            inverseDeviations[row] = scale
            if let moments { (moments[2 * row], moments[2 * row + 1]) = (T(mean), T(variance)) }
        }
    }

    /// dx = (1 / √(variance + ε)) · (g − mean(g) − x̂ · mean(g · x̂)) per row: the gradient of x̂
    /// through both the centring and the scaling by the row's own statistics.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func normalizeBackward<T: TensorScalar>(_ g: UnsafeMutableBufferPointer<T>, normalized: UnsafeMutableBufferPointer<T>,
                                                   inverseDeviations: UnsafeMutableBufferPointer<T>, _ rows: NormalizationRows,
                                                   _ dx: UnsafeMutableBufferPointer<T>) {
        let pointers = SendableBox((g.baseAddress!, normalized.baseAddress!, inverseDeviations.baseAddress!, dx.baseAddress!))
        Parallel.forEach(rows.count) { row in
            let (upstream, xHat, inverseDeviations, output) = pointers.value
            let sumUpstream: Double, sumProduct: Double
            if T.self == Float.self {
                let (g, h) = (UnsafeRawPointer(upstream).assumingMemoryBound(to: Float.self),
                              UnsafeRawPointer(xHat).assumingMemoryBound(to: Float.self))
                @inline(__always) func wide(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Double> {
                    SIMD8<Double>(UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self))
                }
                sumUpstream = rows.sum(row, lanes: { wide(g, $0) }, single: { Double(g[$0]) })
                sumProduct = rows.sum(row, lanes: { wide(g, $0) * wide(h, $0) }, single: { Double(g[$0]) * Double(h[$0]) })
            } else {
                sumUpstream = rows.sum(row) { Double(upstream[$0]) }
                sumProduct = rows.sum(row) { Double(upstream[$0]) * Double(xHat[$0]) }
            }
            let meanUpstream = T(sumUpstream / Double(rows.length)), meanProduct = T(sumProduct / Double(rows.length))
            let scale = inverseDeviations[row]
            rows.forEach(row) { output[$0] = scale * (upstream[$0] - meanUpstream - xHat[$0] * meanProduct) }
        }
    }

    /// Σ term(i) for i in 0..<n, in Double, with four interleaved partial sums so that the additions
    /// overlap in the pipeline instead of waiting on one another.
    @inline(__always)
    static func sum(_ n: Int, _ term: (Int) -> Double) -> Double {
        var partial = SIMD4<Double>(repeating: 0)
        var i = 0
        while i + 4 <= n {
            partial += SIMD4(term(i), term(i + 1), term(i + 2), term(i + 3))
            i += 4
        }
        var total = partial.sum()
        while i < n { total += term(i); i += 1 }
        return total
    }
}
