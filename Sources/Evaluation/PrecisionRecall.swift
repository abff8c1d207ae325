import NeuralNetworks

/// Improved precision and recall (Kynkäänniemi et al., 2019), in the classifier's feature space:
/// FID mixes two failures into one number, and these two tell them apart.
///
/// Each set of feature vectors stands for a region: the union of balls around its points, each
/// ball as wide as the distance from its point to that point's k-th nearest neighbour in the same
/// set. **Precision** is the share of generated points inside the real images' region (are the
/// samples realistic?); **recall** the share of real points inside the samples' region (is every
/// kind of real image drawn?). A collapsed generator keeps its precision and loses recall; noise
/// has neither.
public struct PrecisionRecall: Sendable, Equatable {
    /// The share of generated points inside the real region, in [0, 1].
    public let precision: Double
    /// The share of real points inside the generated region, in [0, 1].
    public let recall: Double
    /// Which neighbour sets each ball's radius (3 in the paper).
    public let k: Int
    public let realCount: Int, generatedCount: Int

    /// Precision and recall of `generated` against `real`, both `[N, F]` feature rows.
    /// - Throws: ``EvaluationError/tooFewSamples(_:)`` unless each set has more than `k` rows, and
    ///   ``EvaluationError/wrongTensorShape(_:)`` when the two are not matrices of the same width.
    public init(real: Tensor, generated: Tensor, k: Int = 3) throws {
        guard real.rank == 2, generated.rank == 2, real.shape[1] == generated.shape[1] else {
            throw EvaluationError.wrongTensorShape(generated.shape)
        }
        guard k >= 1 else { throw EvaluationError.invalidConfiguration("precision and recall need k ≥ 1, got \(k)") }
        for count in [real.shape[0], generated.shape[0]] where count <= k { throw EvaluationError.tooFewSamples(count) }
        let (real, generated) = (real.converted(to: .float64), generated.converted(to: .float64))
        let realRadii = Self.neighbourDistances(within: real, k: k)
        let generatedRadii = Self.neighbourDistances(within: generated, k: k)
        precision = Self.shareInside(generated, region: real, radii: realRadii)
        recall = Self.shareInside(real, region: generated, radii: generatedRadii)
        (self.k, realCount, generatedCount) = (k, real.shape[0], generated.shape[0])
    }

    /// The score as one line for a reader.
    public var line: String {
        "precision \(formattedPrecision), recall \(formattedRecall) "
            + "(k = \(k) nearest neighbours; \(generatedCount) generated and \(realCount) real images)"
    }

    /// Each share with three decimals, as a table shows it.
    public var formattedPrecision: String { String(format: "%.3f", precision) }
    public var formattedRecall: String { String(format: "%.3f", recall) }

    /// Rows of pairwise squared distances between `a` (`[M, F]`) and `b` (`[N, F]`), computed in
    /// blocks of rows so that ten thousand points need tens of megabytes, not gigabytes:
    /// ‖a − b‖² = ‖a‖² + ‖b‖² − 2 a·b, one matrix product per block. `body(row, distances)`.
    private static func forEachDistanceRow(_ a: Tensor, _ b: Tensor, _ body: (Int, UnsafeBufferPointer<Double>) -> Void) {
        let blockRows = 512
        let bNorms = (b * b).sum(alongAxes: [1]).doubles
        let bTransposed = b.transposed()
        for start in stride(from: 0, to: a.shape[0], by: blockRows) {
            let block = a.slice(start..<min(start + blockRows, a.shape[0]), alongAxis: 0)
            let aNorms = (block * block).sum(alongAxes: [1]).doubles
            var distances = block.matmul(bTransposed).doubles                              // a·b, [rows, N]
            let n = bNorms.count
            for row in 0..<aNorms.count {
                for column in 0..<n {
                    // Rounding can leave a tiny negative for identical points.
                    distances[row * n + column] = max(0, aNorms[row] + bNorms[column] - 2 * distances[row * n + column])
                }
            }
            distances.withUnsafeBufferPointer { all in
                for row in 0..<aNorms.count { body(start + row, UnsafeBufferPointer(rebasing: all[(row * n)..<((row + 1) * n)])) }
            }
        }
    }

    /// The squared distance from each row of `points` to its k-th nearest other row.
    static func neighbourDistances(within points: Tensor, k: Int) -> [Double] {
        var radii = [Double](repeating: 0, count: points.shape[0])
        forEachDistanceRow(points, points) { row, distances in
            // The k smallest distances to the other rows, kept sorted.
            var nearest: [Double] = []
            for (column, distance) in distances.enumerated() where column != row {
                if nearest.count < k || distance < nearest[k - 1] {
                    nearest.insert(distance, at: nearest.firstIndex { $0 > distance } ?? nearest.count)
                    if nearest.count > k { nearest.removeLast() }
                }
            }
            radii[row] = nearest[k - 1]
        }
        return radii
    }

    /// The share of `points` that lie in some ball of `region`, whose squared radii are `radii`.
    static func shareInside(_ points: Tensor, region: Tensor, radii: [Double]) -> Double {
        var inside = 0
        forEachDistanceRow(points, region) { _, distances in
            if zip(distances, radii).contains(where: { $0 <= $1 }) { inside += 1 }
        }
        return Double(inside) / Double(points.shape[0])
    }
}
