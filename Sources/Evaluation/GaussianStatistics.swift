import Foundation
import TensorCore

/// The mean and covariance of a set of feature vectors: the Gaussian that the Fréchet distance
/// compares. Kept in `Double`, since the distance subtracts nearly equal traces.
public struct GaussianStatistics: Sendable, Equatable {
    /// The mean feature vector μ, `[dimension]`.
    public let mean: [Double]
    /// The covariance Σ (unbiased, divided by N − 1, as NumPy's `cov` and pytorch-fid compute it).
    public let covariance: SquareMatrix
    /// How many feature vectors the statistics were computed from.
    public let count: Int

    /// The number of features.
    public var dimension: Int { mean.count }

    /// Statistics given directly (for known Gaussians, or loaded from a file).
    public init(mean: [Double], covariance: SquareMatrix, count: Int) {
        require(covariance.size == mean.count,
                "GaussianStatistics: a mean of \(mean.count) values with a \(covariance.size)×\(covariance.size) covariance")
        self.mean = mean
        self.covariance = covariance
        self.count = count
    }

    /// The statistics of the rows of `features`, `[N, dimension]` with N ≥ 2.
    public init(features: Tensor) {
        require(features.rank == 2 && features.shape[0] >= 2,
                "GaussianStatistics: expected [N, dimension] features with N ≥ 2, got \(features.shape)")
        let (n, d) = (features.shape[0], features.shape[1])
        let (mean, covariance) = withoutGradients { () -> ([Double], [Double]) in
            let x = features.detached().converted(to: .float64)                  // [N, d]
            let mu = x.mean(alongAxes: [0], keepingDimensions: true)              // [1, d]
            let centred = x - mu                                                  // [N, d]
            let scatter = centred.transposed().matmul(centred)                    // [d, d]
            return (mu.doubles, (scatter * (1 / Double(n - 1))).doubles)
        }
        self.init(mean: mean, covariance: SquareMatrix(size: d, values: covariance).symmetrized, count: n)
    }

    /// The Fréchet distance between the Gaussians `self` and `other` (see ``FrechetDistance``).
    public func frechetDistance(to other: GaussianStatistics) -> Double {
        FrechetDistance.between(self, other)
    }

    // MARK: - Storage

    /// The statistics as safetensors entries `<prefix>.mean` `[d]` and `<prefix>.covariance` `[d, d]`
    /// (float64), plus the count as metadata `<prefix>.count`.
    public func entries(prefix: String) -> (tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) {
        let d = dimension
        return ([("\(prefix).mean", Tensor(mean, shape: [d])),
                 ("\(prefix).covariance", Tensor(covariance.values, shape: [d, d]))],
                ["\(prefix).count": String(count)])
    }

    /// Reads what `entries(prefix:)` wrote; nil when the entries are missing or inconsistent.
    public init?(_ file: SafeTensors, prefix: String) {
        guard let mean = file["\(prefix).mean"], let covariance = file["\(prefix).covariance"],
              mean.rank == 1, covariance.shape == [mean.count, mean.count],
              let count = file.metadata["\(prefix).count"].flatMap(Int.init), count >= 2 else { return nil }
        let values = covariance.doubles
        guard values.allSatisfy(\.isFinite), mean.doubles.allSatisfy(\.isFinite) else { return nil }
        self.init(mean: mean.doubles, covariance: SquareMatrix(size: mean.count, values: values), count: count)
    }
}
