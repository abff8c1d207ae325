import TensorCore

/// A dense n×n matrix of `Double`s, row-major: the small linear algebra the Fréchet distance needs
/// (covariances of 128 features), done in double precision on the CPU without autograd.
public struct SquareMatrix: Equatable, Sendable {
    /// The number of rows (and columns).
    public let size: Int
    /// The `size × size` elements, row after row.
    public var values: [Double]

    /// A matrix holding `values` (row-major, `size × size` of them).
    public init(size: Int, values: [Double]) {
        require(size >= 0 && values.count == size * size,
                "SquareMatrix: \(values.count) values do not fill a \(size)×\(size) matrix")
        self.size = size
        self.values = values
    }

    /// The zero matrix.
    public static func zeros(_ size: Int) -> SquareMatrix {
        SquareMatrix(size: size, values: [Double](repeating: 0, count: size * size))
    }

    /// The identity matrix.
    public static func identity(_ size: Int) -> SquareMatrix { diagonal([Double](repeating: 1, count: size)) }

    /// A diagonal matrix with `entries` on its diagonal.
    public static func diagonal(_ entries: [Double]) -> SquareMatrix {
        var matrix = zeros(entries.count)
        for (i, value) in entries.enumerated() { matrix[i, i] = value }
        return matrix
    }

    /// The element in row `row`, column `column`.
    public subscript(row: Int, column: Int) -> Double {
        get { values[row * size + column] }
        set { values[row * size + column] = newValue }
    }

    /// The sum of the diagonal.
    public var trace: Double { (0..<size).reduce(0) { $0 + self[$1, $1] } }

    /// Rows and columns swapped.
    public var transposed: SquareMatrix {
        var result = SquareMatrix.zeros(size)
        for i in 0..<size { for j in 0..<size { result[j, i] = self[i, j] } }
        return result
    }

    /// The largest |aᵢⱼ − aⱼᵢ|: 0 for a symmetric matrix.
    public var asymmetry: Double {
        var worst = 0.0
        for i in 0..<size { for j in (i + 1)..<max(i + 1, size) { worst = max(worst, abs(self[i, j] - self[j, i])) } }
        return worst
    }

    /// (A + Aᵀ)/2: removes the rounding noise that makes a computed product slightly asymmetric.
    public var symmetrized: SquareMatrix {
        var result = self
        for i in 0..<size { for j in (i + 1)..<max(i + 1, size) {
            let mean = (self[i, j] + self[j, i]) / 2
            result[i, j] = mean
            result[j, i] = mean
        } }
        return result
    }

    /// The largest |aᵢⱼ|.
    public var maximumMagnitude: Double { values.reduce(0) { max($0, abs($1)) } }

    /// The matrix product A·B.
    public static func * (lhs: SquareMatrix, rhs: SquareMatrix) -> SquareMatrix {
        require(lhs.size == rhs.size, "SquareMatrix: cannot multiply \(lhs.size)×\(lhs.size) by \(rhs.size)×\(rhs.size)")
        let n = lhs.size
        var result = [Double](repeating: 0, count: n * n)
        // i-k-j order: the inner loop runs along rows of both B and the result.
        for i in 0..<n {
            for k in 0..<n {
                let a = lhs.values[i * n + k]
                if a == 0 { continue }
                for j in 0..<n { result[i * n + j] += a * rhs.values[k * n + j] }
            }
        }
        return SquareMatrix(size: n, values: result)
    }

    /// The element-wise sum.
    public static func + (lhs: SquareMatrix, rhs: SquareMatrix) -> SquareMatrix {
        require(lhs.size == rhs.size, "SquareMatrix: cannot add \(lhs.size)×\(lhs.size) and \(rhs.size)×\(rhs.size)")
        return SquareMatrix(size: lhs.size, values: zip(lhs.values, rhs.values).map { $0 + $1 })
    }

    /// The element-wise difference.
    public static func - (lhs: SquareMatrix, rhs: SquareMatrix) -> SquareMatrix {
        require(lhs.size == rhs.size, "SquareMatrix: cannot subtract \(rhs.size)×\(rhs.size) from \(lhs.size)×\(lhs.size)")
        return SquareMatrix(size: lhs.size, values: zip(lhs.values, rhs.values).map { $0 - $1 })
    }

    /// Every element multiplied by `scale`.
    public static func * (scale: Double, matrix: SquareMatrix) -> SquareMatrix {
        SquareMatrix(size: matrix.size, values: matrix.values.map { scale * $0 })
    }
}
