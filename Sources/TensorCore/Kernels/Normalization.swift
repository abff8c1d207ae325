/// Group normalisation's forward and backward over rows of `[rows, rowLength]`: one row is one
/// sample's group of channels, contiguous in NCHW, and one task.
///
/// Each row's sums are taken in Double in a fixed order, whichever thread runs it, so results do
/// not depend on the thread count.
enum NormalizationKernels {
    /// x̂ = (x − mean) / √(variance + ε) per row, and each row's 1 / √(variance + ε) for the backward.
    /// The variance is summed around the mean (a second pass), so a large offset does not cancel it away.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func normalize<T: TensorScalar>(_ x: UnsafeMutableBufferPointer<T>, rowLength: Int, epsilon: Double,
                                           _ normalized: UnsafeMutableBufferPointer<T>,
                                           inverseDeviations: UnsafeMutableBufferPointer<T>) {
        let pointers = SendableBox((x.baseAddress!, normalized.baseAddress!, inverseDeviations.baseAddress!))
        Parallel.forEach(inverseDeviations.count) { row in
            let (x, normalized, inverseDeviations) = pointers.value
            let input = x + row * rowLength, output = normalized + row * rowLength
            let mean = sum(rowLength) { Double(input[$0]) } / Double(rowLength)
            let variance = sum(rowLength) { (Double(input[$0]) - mean) * (Double(input[$0]) - mean) } / Double(rowLength)
            let shift = T(mean), scale = T(1 / (variance + epsilon).squareRoot())
            for i in 0..<rowLength { output[i] = (input[i] - shift) * scale }
            inverseDeviations[row] = scale
        }
    }

    /// dx = (1 / √(variance + ε)) · (g − mean(g) − x̂ · mean(g · x̂)) per row: the gradient of x̂
    /// through both the centring and the scaling by the row's own statistics.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func normalizeBackward<T: TensorScalar>(_ g: UnsafeMutableBufferPointer<T>, normalized: UnsafeMutableBufferPointer<T>,
                                                   inverseDeviations: UnsafeMutableBufferPointer<T>, rowLength: Int,
                                                   _ dx: UnsafeMutableBufferPointer<T>) {
        let pointers = SendableBox((g.baseAddress!, normalized.baseAddress!, inverseDeviations.baseAddress!, dx.baseAddress!))
        Parallel.forEach(inverseDeviations.count) { row in
            let (g, normalized, inverseDeviations, dx) = pointers.value
            let upstream = g + row * rowLength, xHat = normalized + row * rowLength, output = dx + row * rowLength
            let meanUpstream = T(sum(rowLength) { Double(upstream[$0]) } / Double(rowLength))
            let meanProduct = T(sum(rowLength) { Double(upstream[$0]) * Double(xHat[$0]) } / Double(rowLength))
            let scale = inverseDeviations[row]
            for i in 0..<rowLength { output[i] = scale * (upstream[i] - meanUpstream - xHat[i] * meanProduct) }
        }
    }

    /// Σ term(i) for i in 0..<n, in Double, with four interleaved partial sums so that the additions
    /// overlap in the pipeline instead of waiting on one another.
    @inline(__always)
    private static func sum(_ n: Int, _ term: (Int) -> Double) -> Double {
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
