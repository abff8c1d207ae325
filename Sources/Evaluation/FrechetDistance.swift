import TensorCore

/// The Fréchet distance between two Gaussians — with features of a classifier, the FID.
///
/// For N(μ₁, Σ₁) and N(μ₂, Σ₂) it is the squared 2-Wasserstein distance
///
///     d² = |μ₁ − μ₂|² + Tr(Σ₁ + Σ₂ − 2·(Σ₁^½ Σ₂ Σ₁^½)^½),
///
/// the least mean squared distance over all ways of pairing samples of one with samples of the
/// other. Both square roots are of symmetric positive semi-definite matrices, taken through a
/// symmetric eigendecomposition (``SymmetricEigendecomposition``); tiny negative eigenvalues left
/// by rounding count as 0. Writing it with Σ₁^½ Σ₂ Σ₁^½ rather than Σ₁Σ₂ keeps every matrix
/// symmetric (the two have the same eigenvalues, so the trace of the root is the same).
public enum FrechetDistance {
    /// d² between the Gaussians `a` and `b` (same dimension). Never negative: a result that rounding
    /// pushed just below zero is returned as 0.
    public static func between(_ a: GaussianStatistics, _ b: GaussianStatistics) -> Double {
        require(a.dimension == b.dimension,
                "FrechetDistance: statistics of \(a.dimension) and \(b.dimension) features cannot be compared")
        let meanTerm = zip(a.mean, b.mean).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let rootA = a.covariance.symmetricSquareRoot                          // Σ₁^½
        let middle = (rootA * b.covariance * rootA).symmetrized               // Σ₁^½ Σ₂ Σ₁^½
        let traceOfRoot = SymmetricEigendecomposition(middle).eigenvalues.reduce(0) { $0 + max($1, 0).squareRoot() }
        let distance = meanTerm + a.covariance.trace + b.covariance.trace - 2 * traceOfRoot
        return max(distance, 0)
    }
}
