import Foundation
import Evaluation
import TensorCore
import Testing

@Suite struct FrechetDistanceTests {
    func gaussian(_ mean: [Double], _ covariance: [Double]) -> GaussianStatistics {
        GaussianStatistics(mean: mean, covariance: SquareMatrix(size: mean.count, values: covariance), count: 1000)
    }

    @Test func identicalGaussiansAreAtDistanceZero() {
        let x = randomSymmetric(16, seed: 2)
        let a = GaussianStatistics(mean: (0..<16).map(Double.init), covariance: (x * x.transposed).symmetrized, count: 100)
        #expect(FrechetDistance.between(a, a) < 1e-9)
    }

    @Test func identicalFeatureSetsScoreZero() {
        // 500 random 128-D feature vectors against themselves: FID = 0 up to rounding.
        var generator = RandomGenerator(seed: 4)
        let features = Tensor.randomNormal([500, 128], using: &generator).relu()       // like post-ReLU features
        let statistics = GaussianStatistics(features: features)
        #expect(statistics.dimension == 128 && statistics.count == 500)
        #expect(statistics.frechetDistance(to: statistics) < 1e-8)
    }

    @Test func diagonalCovariancesGiveTheSumOfSquaredDifferences() {
        // Commuting covariances: d² = |μ₁ − μ₂|² + Σ (√a − √b)².
        let a = gaussian([0, 1, 2], [4, 0, 0, 0, 9, 0, 0, 0, 1])
        let b = gaussian([1, 1, 0], [1, 0, 0, 0, 16, 0, 0, 0, 1])
        let expected = (1.0 + 0 + 4) + (1.0 + 1 + 0)
        #expect(abs(FrechetDistance.between(a, b) - expected) < 1e-12)
        #expect(abs(FrechetDistance.between(b, a) - expected) < 1e-12)
    }

    @Test func twoByTwoClosedFormForNonCommutingCovariances() {
        // For 2×2 positive matrices, Tr √(Σ₁Σ₂) = √(tr(Σ₁Σ₂) + 2√(det Σ₁ · det Σ₂)): an independent formula.
        let s1 = [2.0, 0.6, 0.6, 1.0], s2 = [1.0, -0.4, -0.4, 3.0]
        let a = gaussian([0.5, -1], s1), b = gaussian([0, 1], s2)
        let traceProduct = s1[0] * s2[0] + s1[1] * s2[2] + s1[2] * s2[1] + s1[3] * s2[3]
        let determinants = (s1[0] * s1[3] - s1[1] * s1[2]) * (s2[0] * s2[3] - s2[1] * s2[2])
        let expected = (0.25 + 4) + (3 + 4) - 2 * (traceProduct + 2 * determinants.squareRoot()).squareRoot()
        #expect(abs(FrechetDistance.between(a, b) - expected) < 1e-12)
    }

    @Test func invariantUnderACommonRotation() {
        // Rotating both Gaussians the same way keeps their distance.
        let n = 10
        let x = randomSymmetric(n, seed: 8), y = randomSymmetric(n, seed: 9)
        let s1 = (x * x.transposed).symmetrized, s2 = (y * y.transposed + .identity(n)).symmetrized
        let m1 = (0..<n).map { Double($0) / 3 }, m2 = (0..<n).map { Double($0 % 3) }
        let r = randomRotation(n, seed: 10)
        func rotate(_ v: [Double]) -> [Double] { (0..<n).map { i in (0..<n).reduce(0) { $0 + r[i, $1] * v[$1] } } }
        let plain = FrechetDistance.between(GaussianStatistics(mean: m1, covariance: s1, count: 2), GaussianStatistics(mean: m2, covariance: s2, count: 2))
        let rotated = FrechetDistance.between(
            GaussianStatistics(mean: rotate(m1), covariance: (r * s1 * r.transposed).symmetrized, count: 2),
            GaussianStatistics(mean: rotate(m2), covariance: (r * s2 * r.transposed).symmetrized, count: 2))
        #expect(plain > 1 && abs(plain - rotated) < 1e-9 * plain)
    }

    @Test func statisticsOfFeaturesByHand() {
        // Three 2-D points: mean (2, 1); covariance with N − 1 = 2.
        let features = Tensor([1, 0, 2, 1, 3, 2] as [Float], shape: [3, 2])
        let statistics = GaussianStatistics(features: features)
        #expect(statistics.mean == [2, 1])
        #expect(statistics.covariance == SquareMatrix(size: 2, values: [1, 1, 1, 1]))
    }

    @Test func sampledGaussiansApproachTheClosedForm() {
        // 20 000 samples of N(μ, LLᵀ) in 3-D, against the exact statistics of another Gaussian.
        var generator = RandomGenerator(seed: 12)
        let l = [1.0, 0, 0, 0.5, 2, 0, -0.3, 0.2, 0.7]                      // lower triangular
        let mu = [1.0, -2, 0.5]
        var values: [Double] = []
        for _ in 0..<20_000 {
            let z = (0..<3).map { _ in generator.nextNormal() }
            for i in 0..<3 { values.append(mu[i] + (0..<3).reduce(0) { $0 + l[i * 3 + $1] * z[$1] }) }
        }
        let sampled = GaussianStatistics(features: Tensor(values, shape: [20_000, 3]))
        var covariance = SquareMatrix.zeros(3)
        for i in 0..<3 { for j in 0..<3 { covariance[i, j] = (0..<3).reduce(0) { $0 + l[i * 3 + $1] * l[j * 3 + $1] } } }
        let exact = GaussianStatistics(mean: mu, covariance: covariance, count: 20_000)
        let other = gaussian([0, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0, 1])
        #expect(sampled.frechetDistance(to: exact) < 0.01)
        #expect(abs(sampled.frechetDistance(to: other) - exact.frechetDistance(to: other)) < 0.1)
    }

    @Test func statisticsSurviveASafetensorsRoundTrip() throws {
        let x = randomSymmetric(5, seed: 1)
        let statistics = GaussianStatistics(mean: [1, 2, 3, 4, 5], covariance: (x * x).symmetrized, count: 77)
        let entries = statistics.entries(prefix: "reference")
        let data = SafeTensors(tensors: entries.tensors, metadata: entries.metadata).encoded()
        let read = try #require(GaussianStatistics(try SafeTensors(data: data), prefix: "reference"))
        #expect(read == statistics)
        #expect(GaussianStatistics(try SafeTensors(data: data), prefix: "other") == nil)
    }
}
