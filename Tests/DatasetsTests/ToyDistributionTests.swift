import Datasets
import Foundation
import TensorCore
import Testing

@Suite struct ToyDistributionTests {
    static let count = 4000

    static func points(_ distribution: ToyDistribution, seed: UInt64 = 1) -> [(x: Double, y: Double)] {
        var generator = RandomGenerator(seed: seed)
        let tensor = distribution.sample(count, using: &generator)
        let values = tensor.doubles
        return (0..<tensor.shape[0]).map { (values[2 * $0], values[2 * $0 + 1]) }
    }

    static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
    static func variance(_ values: [Double]) -> Double {
        let m = mean(values)
        return values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count)
    }

    @Test(arguments: ToyDistribution.allCases)
    func shapeAndDeterminism(_ distribution: ToyDistribution) {
        var a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5), c = RandomGenerator(seed: 6)
        let first = distribution.sample(100, using: &a)
        #expect(first.shape == [100, 2] && first.dtype == .float32)
        #expect(first.floats == distribution.sample(100, using: &b).floats)
        #expect(first.floats != distribution.sample(100, using: &c).floats)
        #expect(first.floats.allSatisfy { $0.isFinite })
    }

    @Test func eightGaussiansClusterAroundTheirCentres() {
        let points = Self.points(.eightGaussians)
        var members = [[(Double, Double)]](repeating: [], count: 8)
        for p in points {
            let distances = ToyDistribution.eightGaussianCenters.map { hypot(p.x - $0.x, p.y - $0.y) }
            let nearest = distances.indices.min { distances[$0] < distances[$1] }!
            #expect(distances[nearest] < 0.6)                   // 6 standard deviations
            members[nearest].append((p.x - ToyDistribution.eightGaussianCenters[nearest].x,
                                     p.y - ToyDistribution.eightGaussianCenters[nearest].y))
        }
        for cluster in members {
            #expect(abs(Double(cluster.count) / Double(Self.count) - 0.125) < 0.025)
            let spread = Self.variance(cluster.map(\.0)).squareRoot()
            #expect(abs(spread - 0.1) < 0.015, "cluster standard deviation \(spread)")
        }
        #expect(abs(Self.mean(points.map(\.x))) < 0.1 && abs(Self.mean(points.map(\.y))) < 0.1)
    }

    @Test func twoMoonsHaveTheMomentsOfMakeMoons() {
        let points = Self.points(.twoMoons)
        let (xs, ys) = (points.map(\.x), points.map(\.y))
        // Computed from the definition: E[x] = 1/2, E[y] = 1/4, Var x = 3/4, Var y = 1/2 - 4/π² + (1/2)²·… ≈ 0.2442; noise adds 0.0025.
        #expect(abs(Self.mean(xs) - 0.5) < 0.04)
        #expect(abs(Self.mean(ys) - 0.25) < 0.02)
        #expect(abs(Self.variance(xs) - 0.7525) < 0.04)
        #expect(abs(Self.variance(ys) - 0.2467) < 0.015)
        // Every point is close to one of the two unit circles the moons lie on.
        for p in points {
            let upper = abs(hypot(p.x, p.y) - 1), lower = abs(hypot(p.x - 1, p.y - 0.5) - 1)
            #expect(min(upper, lower) < 0.3)
        }
    }

    @Test func swissRollFollowsItsSpiral() {
        let curve = (0...3000).map { i -> (Double, Double) in
            let t = 1.5 * Double.pi * (1 + 2 * Double(i) / 3000)
            return (t * cos(t) / 5, t * sin(t) / 5)
        }
        for p in Self.points(.swissRoll).prefix(1500) {
            let distance = curve.map { hypot(p.x - $0.0, p.y - $0.1) }.min()!
            #expect(distance < 0.3)
        }
    }

    @Test func checkerboardFillsOnlyTheDarkSquares() {
        var perCell = [String: Int]()
        for p in Self.points(.checkerboard) {
            #expect((-2..<2).contains(p.x) && (-2..<2).contains(p.y))
            let (i, j) = (Int(floor(p.x)), Int(floor(p.y)))
            #expect((i + j) % 2 == 0)
            perCell["\(i),\(j)", default: 0] += 1
        }
        #expect(perCell.count == 8)
        #expect(perCell.values.allSatisfy { abs(Double($0) / Double(Self.count) - 0.125) < 0.025 })
    }

    @Test func ringsHaveDensityProportionalToCircumference() {
        var perRing = [Int](repeating: 0, count: 4)
        for p in Self.points(.rings) {
            let radius = hypot(p.x, p.y)
            let distances = ToyDistribution.ringRadii.map { abs(radius - $0) }
            let nearest = distances.indices.min { distances[$0] < distances[$1] }!
            #expect(distances[nearest] < 0.2)
            perRing[nearest] += 1
        }
        // Radii 0.5, 1, 1.5, 2 out of 5: shares 0.1, 0.2, 0.3, 0.4.
        for (ring, share) in [0.1, 0.2, 0.3, 0.4].enumerated() {
            #expect(abs(Double(perRing[ring]) / Double(Self.count) - share) < 0.03)
        }
    }
}
