import Foundation
import TensorCore

/// The variances β₀ … β_{T−1} of a diffusion's forward process and the quantities derived from them.
///
/// Steps are counted from 0 as arrays are: step `t` here is step t + 1 of the DDPM paper, whose
/// x₀ is the data. So `alphaBars[t]` = ∏_{s ≤ t} (1 − β_s) is the share of the data's variance
/// left in x after step t, and ``alphaBar(before:)`` of step 0 is 1 (the data itself).
public struct NoiseSchedule: Sendable {
    /// How a schedule is made: what a checkpoint records, because a network that learned to remove
    /// noise learned it at these noise levels and is sampled with them.
    public enum Recipe: Codable, Sendable, Equatable {
        /// β rising linearly from `start` to `end` over `stepCount` steps.
        case linear(stepCount: Int, start: Double, end: Double)
        /// The cosine schedule (see ``cosine(stepCount:offset:maximumBeta:)``).
        case cosine(stepCount: Int, offset: Double, maximumBeta: Double)
        /// Explicit variances.
        case betas([Double])

        /// Why no schedule can be made from this recipe, or nil when one can.
        public var problem: String? {
            switch self {
            case .linear(let stepCount, let start, let end):
                guard (2...100_000).contains(stepCount) else { return "a linear schedule needs 2…100000 steps, got \(stepCount)" }
                guard start > 0, start <= end, end < 1 else { return "a linear schedule needs 0 < start ≤ end < 1, got \(start) and \(end)" }
            case .cosine(let stepCount, let offset, let maximumBeta):
                guard (2...100_000).contains(stepCount) else { return "a cosine schedule needs 2…100000 steps, got \(stepCount)" }
                guard (0...1).contains(offset), maximumBeta > 0, maximumBeta < 1 else {
                    return "a cosine schedule needs an offset in [0, 1] and a maximum β in (0, 1), got \(offset) and \(maximumBeta)"
                }
            case .betas(let betas):
                guard !betas.isEmpty, betas.count <= 100_000, betas.allSatisfy({ $0 > 0 && $0 < 1 }) else {
                    return "a schedule needs 1…100000 variances, every β in (0, 1)"
                }
            }
            return nil
        }

        /// T, the number of steps of the schedule it makes.
        public var stepCount: Int {
            switch self {
            case .linear(let stepCount, _, _), .cosine(let stepCount, _, _): return stepCount
            case .betas(let betas): return betas.count
            }
        }
    }

    /// How this schedule was made.
    public let recipe: Recipe
    /// β_t, the variance of the noise added at step t.
    public let betas: [Double]
    /// ᾱ_t = ∏_{s ≤ t} (1 − β_s).
    public let alphaBars: [Double]

    /// The schedule `recipe` makes.
    /// - Requires: `recipe.problem` is nil (a checkpoint's recipe is checked before it gets here).
    public init(_ recipe: Recipe) {
        if let problem = recipe.problem { fatalError("NoiseSchedule: \(problem)") }
        self.recipe = recipe
        switch recipe {
        case .linear(let stepCount, let start, let end):
            betas = (0..<stepCount).map { start + (end - start) * Double($0) / Double(stepCount - 1) }
        case .cosine(let stepCount, let offset, let maximumBeta):
            func f(_ fraction: Double) -> Double {
                let angle = (fraction + offset) / (1 + offset) * Double.pi / 2
                return Foundation.cos(angle) * Foundation.cos(angle)
            }
            betas = (0..<stepCount).map { t in
                min(maximumBeta, 1 - f(Double(t + 1) / Double(stepCount)) / f(Double(t) / Double(stepCount)))
            }
        case .betas(let values):
            betas = values
        }
        var product = 1.0
        alphaBars = betas.map { beta in
            product *= 1 - beta
            return product
        }
    }

    /// - Requires: every β in (0, 1).
    public init(betas: [Double]) { self.init(.betas(betas)) }

    /// T, the number of steps.
    public var stepCount: Int { betas.count }

    /// The DDPM paper's schedule: β rising linearly from `start` to `end`.
    public static func linear(stepCount: Int = 1000, start: Double = 1e-4, end: Double = 0.02) -> NoiseSchedule {
        NoiseSchedule(.linear(stepCount: stepCount, start: start, end: end))
    }

    /// Nichol & Dhariwal's cosine schedule: ᾱ follows f(τ) = cos²((τ + s)/(1 + s) · π/2) of the
    /// fraction τ of the way through, divided by f(0); β_t = 1 − ᾱ_t/ᾱ_{t−1}, capped at `maximumBeta`
    /// because the last steps would otherwise destroy the image in one jump.
    public static func cosine(stepCount: Int = 1000, offset: Double = 0.008, maximumBeta: Double = 0.999) -> NoiseSchedule {
        NoiseSchedule(.cosine(stepCount: stepCount, offset: offset, maximumBeta: maximumBeta))
    }

    /// ᾱ of the step before `t`: 1 for t = 0 (the clean data), also for t = −1 ("past the end").
    public func alphaBar(before t: Int) -> Double { t <= 0 ? 1 : alphaBars[t - 1] }

    /// β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t), the variance of q(x_{t−1} | x_t, x₀); 0 at step 0.
    public func posteriorVariance(_ t: Int) -> Double {
        betas[t] * (1 - alphaBar(before: t)) / (1 - alphaBars[t])
    }

    /// `count` steps spaced evenly from T − 1 down to 0, the visiting order of a shortened sampler.
    public func evenlySpacedSteps(_ count: Int) -> [Int] {
        require(count >= 1 && count <= stepCount, "NoiseSchedule: cannot visit \(count) of \(stepCount) steps")
        if count == 1 { return [stepCount - 1] }
        return (0..<count).map { index in
            Int((Double(stepCount - 1) * Double(count - 1 - index) / Double(count - 1)).rounded())
        }
    }
}
