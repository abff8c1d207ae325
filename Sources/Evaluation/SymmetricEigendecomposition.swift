import TensorCore

/// The eigenvalues and eigenvectors of a real symmetric matrix, A = V·diag(λ)·Vᵀ, by the cyclic
/// Jacobi method.
///
/// Each step picks an off-diagonal pair (p, q) and rotates rows and columns p and q by the angle
/// that makes aₚq zero: with θ = (a_qq − a_pp)/(2a_pq), t = sign(θ)/(|θ| + √(θ² + 1)) = tan φ,
/// c = cos φ = 1/√(t² + 1), s = t·c, A ← JᵀAJ. The rotations are accumulated in V. A sweep visits
/// every pair once; the off-diagonal mass falls quadratically, and a 128×128 covariance settles in
/// under a dozen sweeps. It is slower than LAPACK's algorithms but short, and its result is accurate
/// to rounding: the iteration stops when the off-diagonal part is below 10⁻¹⁴ of the matrix's norm.
public struct SymmetricEigendecomposition: Sendable {
    /// The eigenvalues, in ascending order.
    public let eigenvalues: [Double]
    /// The eigenvectors as columns: column k belongs to `eigenvalues[k]`. V is orthogonal (VᵀV = I).
    public let eigenvectors: SquareMatrix
    /// How many sweeps over all pairs the iteration took.
    public let sweeps: Int

    /// Decomposes `matrix`, which must be symmetric (up to rounding: it is symmetrised first) and finite.
    public init(_ matrix: SquareMatrix, maximumSweeps: Int = 100) {
        require(matrix.values.allSatisfy(\.isFinite), "SymmetricEigendecomposition: the matrix has NaN or infinite entries")
        require(matrix.asymmetry <= 1e-8 * max(1, matrix.maximumMagnitude),
                "SymmetricEigendecomposition: the matrix is not symmetric (largest |aᵢⱼ − aⱼᵢ| = \(matrix.asymmetry))")
        let n = matrix.size
        var a = matrix.symmetrized.values            // [n, n], rotated toward diagonal in place
        var v = SquareMatrix.identity(n).values      // [n, n], the product of the rotations
        let total = a.reduce(0) { $0 + $1 * $1 }
        var sweep = 0
        while sweep < maximumSweeps {
            var offDiagonal = 0.0
            for p in 0..<n { for q in (p + 1)..<max(p + 1, n) { offDiagonal += 2 * a[p * n + q] * a[p * n + q] } }
            if offDiagonal <= 1e-28 * total { break }
            sweep += 1
            for p in 0..<n {
                for q in (p + 1)..<max(p + 1, n) {
                    let apq = a[p * n + q]
                    // Negligible beside both diagonal entries: rotating would change nothing.
                    if abs(apq) <= 1e-18 * (abs(a[p * n + p]) + abs(a[q * n + q])) {
                        a[p * n + q] = 0
                        a[q * n + p] = 0
                        continue
                    }
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    // A ← A·J: columns p and q.
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    // A ← Jᵀ·A: rows p and q.
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    a[p * n + q] = 0
                    a[q * n + p] = 0
                    // V ← V·J.
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let order = (0..<n).sorted { a[$0 * n + $0] < a[$1 * n + $1] }
        eigenvalues = order.map { a[$0 * n + $0] }
        var sorted = SquareMatrix.zeros(n)
        for (column, source) in order.enumerated() {
            for row in 0..<n { sorted[row, column] = v[row * n + source] }
        }
        eigenvectors = sorted
        sweeps = sweep
    }

    /// V·diag(f(λ))·Vᵀ: a function applied to a symmetric matrix through its eigenvalues.
    public func reconstructed(applying function: (Double) -> Double = { $0 }) -> SquareMatrix {
        let n = eigenvalues.count
        var scaled = eigenvectors                       // V·diag(f(λ)): column k times f(λₖ)
        for k in 0..<n {
            let factor = function(eigenvalues[k])
            for row in 0..<n { scaled[row, k] *= factor }
        }
        return scaled * eigenvectors.transposed
    }
}

extension SquareMatrix {
    /// The symmetric positive semi-definite square root S (S·S = A) of a symmetric matrix A.
    /// Eigenvalues that rounding left slightly negative are taken as 0.
    public var symmetricSquareRoot: SquareMatrix {
        SymmetricEigendecomposition(self).reconstructed { Swift.max($0, 0).squareRoot() }
    }
}
