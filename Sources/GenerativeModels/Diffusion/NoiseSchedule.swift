import Foundation
import TensorCore

/// The variances β₀ … β_{T−1} of a diffusion's forward process and the quantities derived from them.
///
/// Steps are counted from 0 as arrays are: step `t` here is step t + 1 of the DDPM paper, whose
/// x₀ is the data. So `alphaBars[t]` = ∏_{s ≤ t} (1 − β_s) is the share of the data's variance
/// left in x after step t, and ``alphaBar(before:)`` of step 0 is 1 (the data itself).
public struct NoiseSchedule: Sendable {
    /// β_t, the variance of the noise added at step t.
    public let betas: [Double]
    /// ᾱ_t = ∏_{s ≤ t} (1 − β_s).
    public let alphaBars: [Double]

    /// - Requires: every β in (0, 1).
    public init(betas: [Double]) {
        require(!betas.isEmpty && betas.allSatisfy { $0 > 0 && $0 < 1 }, "NoiseSchedule: every β must lie in (0, 1)")
        self.betas = betas
        var product = 1.0
        alphaBars = betas.map { beta in
            product *= 1 - beta
            return product
        }
    }

    /// T, the number of steps.
    public var stepCount: Int { betas.count }

    /// The DDPM paper's schedule: β rising linearly from `start` to `end`.
    public static func linear(stepCount: Int = 1000, start: Double = 1e-4, end: Double = 0.02) -> NoiseSchedule {
        require(stepCount >= 2, "NoiseSchedule.linear: need at least 2 steps, got \(stepCount)")
        return NoiseSchedule(betas: (0..<stepCount).map { start + (end - start) * Double($0) / Double(stepCount - 1) })
    }

    /// Nichol & Dhariwal's cosine schedule: ᾱ follows f(τ) = cos²((τ + s)/(1 + s) · π/2) of the
    /// fraction τ of the way through, divided by f(0); β_t = 1 − ᾱ_t/ᾱ_{t−1}, capped at `maximumBeta`
    /// because the last steps would otherwise destroy the image in one jump.
    public static func cosine(stepCount: Int = 1000, offset: Double = 0.008, maximumBeta: Double = 0.999) -> NoiseSchedule {
        require(stepCount >= 2, "NoiseSchedule.cosine: need at least 2 steps, got \(stepCount)")
        func f(_ fraction: Double) -> Double {
            let angle = (fraction + offset) / (1 + offset) * Double.pi / 2
            return Foundation.cos(angle) * Foundation.cos(angle)
        }
        return NoiseSchedule(betas: (0..<stepCount).map { t in
            min(maximumBeta, 1 - f(Double(t + 1) / Double(stepCount)) / f(Double(t) / Double(stepCount)))
        })
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
