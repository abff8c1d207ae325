import Foundation
import TensorCore

/// Two-dimensional distributions for watching a generative model learn: small enough to train
/// in seconds, and easy to judge by eye in a scatter plot.
public enum ToyDistribution: String, CaseIterable, Sendable {
    /// Two interleaved half circles, as scikit-learn's `make_moons`: the upper one
    /// (cos t, sin t) and the lower one (1 − cos t, ½ − sin t), t uniform in [0, π], plus
    /// Gaussian noise of standard deviation 0.05.
    case twoMoons
    /// Eight Gaussian blobs (standard deviation 0.1) centred on a circle of radius 2, at the
    /// angles 0, 45°, …, 315°: the classic test of mode collapse.
    case eightGaussians
    /// A spiral, t (cos t, sin t) / 5 for t uniform in [1.5π, 4.5π], plus noise of standard
    /// deviation 0.05.
    case swissRoll
    /// Uniform on the eight dark squares of a 4×4 board covering [-2, 2]²: the unit squares
    /// whose corner (⌊x⌋, ⌊y⌋) has an even sum.
    case checkerboard
    /// Four concentric circles of radii 0.5, 1, 1.5 and 2 with noise of standard deviation
    /// 0.03; points are spread in proportion to circumference, so the density along each ring
    /// is the same.
    case rings

    /// The centres of ``eightGaussians``.
    public static let eightGaussianCenters: [(x: Double, y: Double)] = (0..<8).map {
        let angle = Double($0) * Double.pi / 4
        return (2 * cos(angle), 2 * sin(angle))
    }

    /// The radii of ``rings``.
    public static let ringRadii: [Double] = [0.5, 1, 1.5, 2]

    /// `count` samples as a float32 `[count, 2]` tensor.
    public func sample(_ count: Int, using generator: inout RandomGenerator) -> Tensor {
        require(count >= 0, "ToyDistribution.sample: count must not be negative, got \(count)")
        var values = [Float]()
        values.reserveCapacity(2 * count)
        for _ in 0..<count {
            let (x, y) = point(using: &generator)
            values.append(Float(x))
            values.append(Float(y))
        }
        return Tensor(values, shape: [count, 2])
    }

    /// One sample.
    private func point(using g: inout RandomGenerator) -> (Double, Double) {
        switch self {
        case .twoMoons:
            let t = Double.pi * g.nextUniform()
            let (x, y) = g.nextUniform() < 0.5 ? (cos(t), sin(t)) : (1 - cos(t), 0.5 - sin(t))
            return (x + 0.05 * g.nextNormal(), y + 0.05 * g.nextNormal())
        case .eightGaussians:
            let center = ToyDistribution.eightGaussianCenters[g.nextInt(below: 8)]
            return (center.x + 0.1 * g.nextNormal(), center.y + 0.1 * g.nextNormal())
        case .swissRoll:
            let t = 1.5 * Double.pi * (1 + 2 * g.nextUniform())
            return (t * cos(t) / 5 + 0.05 * g.nextNormal(), t * sin(t) / 5 + 0.05 * g.nextNormal())
        case .checkerboard:
            // Pick one of the 8 dark cells (column i, row j with i + j even), then a point in it.
            let cell = g.nextInt(below: 8)
            let row = cell / 2
            let column = 2 * (cell % 2) + (row % 2)
            return (Double(column - 2) + g.nextUniform(), Double(row - 2) + g.nextUniform())
        case .rings:
            // Choose a ring with probability ∝ its radius (its circumference).
            let total = ToyDistribution.ringRadii.reduce(0, +)
            var pick = g.nextUniform() * total
            var radius = ToyDistribution.ringRadii.last!
            for r in ToyDistribution.ringRadii {
                if pick < r { radius = r; break }
                pick -= r
            }
            let angle = 2 * Double.pi * g.nextUniform()
            return (radius * cos(angle) + 0.03 * g.nextNormal(), radius * sin(angle) + 0.03 * g.nextNormal())
        }
    }
}
