import Foundation
import NeuralNetworks

/// A network that predicts the noise ε in a batch `x` at diffusion steps `steps` (one per image),
/// optionally for class `labels`: `[B, C, H, W]` → `[B, C, H, W]`.
public typealias NoisePredictor = (_ x: Tensor, _ steps: [Int], _ labels: [Int]?) -> Tensor

/// The forward (noising) process of a diffusion model, its training loss, and the two ways back:
/// DDPM's ancestral steps and DDIM's deterministic ones. Images live in [−1, 1].
public struct GaussianDiffusion: Sendable {
    public let schedule: NoiseSchedule

    public init(schedule: NoiseSchedule) { self.schedule = schedule }

    /// One value per image, shaped `[B, 1, 1, 1]` to broadcast over an image batch.
    private func perImage(_ values: [Double], dtype: DType) -> Tensor {
        Tensor(values, shape: [values.count, 1, 1, 1], dtype: dtype)
    }

    // MARK: - Forward process and loss

    /// x_t = √ᾱ_t · x₀ + √(1 − ᾱ_t) · ε: a sample of q(x_t | x₀) in one step (the DDPM paper's q_sample).
    public func noised(_ data: Tensor, steps: [Int], noise: Tensor) -> Tensor {
        require(data.shape == noise.shape && steps.count == data.shape[0],
                "GaussianDiffusion.noised: data \(data.shape), noise \(noise.shape) and \(steps.count) steps do not match")
        let signal = perImage(steps.map { schedule.alphaBars[$0].squareRoot() }, dtype: data.dtype)
        let spread = perImage(steps.map { (1 - schedule.alphaBars[$0]).squareRoot() }, dtype: data.dtype)
        return data * signal + noise * spread
    }

    // MARK: - Reverse steps

    /// x̂₀ = (x_t − √(1 − ᾱ_t) ε̂) / √ᾱ_t: where the data must have been if ε̂ is the noise in x_t.
    public func predictedData(from x: Tensor, step t: Int, noise: Tensor) -> Tensor {
        (x - noise * (1 - schedule.alphaBars[t]).squareRoot()) * (1 / schedule.alphaBars[t].squareRoot())
    }

    /// One DDPM (ancestral) step from x_t to x_{t−1}: the mean of q(x_{t−1} | x_t, x̂₀),
    /// √ᾱ_{t−1} β_t/(1 − ᾱ_t) · x̂₀ + √α_t (1 − ᾱ_{t−1})/(1 − ᾱ_t) · x_t, plus noise of variance β̃_t.
    /// Without clipping x̂₀ this mean equals (x_t − β_t/√(1 − ᾱ_t) ε̂)/√α_t; clipping x̂₀ to
    /// [−1, 1] keeps early, poor guesses from pushing pixels out of range. At t = 0 it returns x̂₀.
    public func ancestralStep(_ x: Tensor, step t: Int, predictedNoise: Tensor, clipsData: Bool = true,
                              using generator: inout RandomGenerator) -> Tensor {
        var data = predictedData(from: x, step: t, noise: predictedNoise)
        if clipsData { data = data.clamped(min: -1, max: 1) }
        let beta = schedule.betas[t], alphaBar = schedule.alphaBars[t], previousAlphaBar = schedule.alphaBar(before: t)
        let mean = data * (previousAlphaBar.squareRoot() * beta / (1 - alphaBar))
            + x * ((1 - beta).squareRoot() * (1 - previousAlphaBar) / (1 - alphaBar))
        guard t > 0 else { return mean }
        return mean + Tensor.randomNormal(x.shape, dtype: x.dtype, using: &generator) * schedule.posteriorVariance(t).squareRoot()
    }

    /// One DDIM step (η = 0) from x_t to x_s, s < t (s = −1 means the data): keep the predicted
    /// noise's direction and move x̂₀ to the noise level of s, x_s = √ᾱ_s x̂₀ + √(1 − ᾱ_s) ε̂.
    /// Nothing random is added, so the whole sampler is a deterministic map from x_T.
    ///
    /// When x̂₀ is clipped to [−1, 1], ε̂ is recomputed from it, ε̂ = (x_t − √ᾱ_t x̂₀)/√(1 − ᾱ_t), so
    /// that the pair still adds up to x_t; mixing a clipped x̂₀ with the unclipped ε̂ drifts off
    /// the path, and more so the more steps are taken.
    public func implicitStep(_ x: Tensor, from t: Int, to s: Int, predictedNoise: Tensor, clipsData: Bool = true) -> Tensor {
        require(s < t, "GaussianDiffusion.implicitStep: must move to an earlier step, got \(t) → \(s)")
        var data = predictedData(from: x, step: t, noise: predictedNoise), noise = predictedNoise
        if clipsData {
            data = data.clamped(min: -1, max: 1)
            noise = (x - data * schedule.alphaBars[t].squareRoot()) * (1 / (1 - schedule.alphaBars[t]).squareRoot())
        }
        let target = s < 0 ? 1 : schedule.alphaBars[s]
        return data * target.squareRoot() + noise * (1 - target).squareRoot()
    }

    // MARK: - Sampling

    /// How to walk back from noise to data.
    public enum Sampler: Codable, Sendable, Equatable, CustomStringConvertible {
        /// Every step of the schedule, with fresh noise at each (T network passes).
        case ddpm
        /// `steps` evenly spaced steps, deterministic.
        case ddim(steps: Int)

        /// The network passes per image under `schedule` (doubled by guidance).
        public func networkPasses(in schedule: NoiseSchedule) -> Int {
            switch self {
            case .ddpm: return schedule.stepCount
            case .ddim(let steps): return steps
            }
        }

        public var description: String {
            switch self {
            case .ddpm: return "DDPM"
            case .ddim(let steps): return "DDIM-\(steps)"
            }
        }
    }

    /// What a sampler did at one step, for progress bars and pictures of the trajectory.
    public struct SamplingStep {
        /// 1 for the first step taken, up to `count`.
        public let index: Int, count: Int
        /// The schedule step the sampler just left.
        public let step: Int
        /// The batch after the step, and the network's guess of the clean data on the way.
        public let x: Tensor, predictedData: Tensor
    }

    /// Draws images by running `sampler` from the pure noise `noise` (x_T, `[B, C, H, W]`), with
    /// no gradients recorded. `observe` sees every step.
    ///
    /// `constrain`, when given, may rewrite x after every step; it receives x and the step x now
    /// sits at (−1 once x is the final image). Inpainting uses it to put back the known pixels,
    /// noised to that step's level; super-resolution to impose a low-resolution image's content.
    public func sample(from noise: Tensor, sampler: Sampler, labels: [Int]? = nil, using generator: inout RandomGenerator,
                       predictor: NoisePredictor, observe: ((SamplingStep) -> Void)? = nil,
                       constrain: ((_ x: Tensor, _ step: Int, _ generator: inout RandomGenerator) -> Tensor)? = nil) -> Tensor {
        let steps: [Int]
        switch sampler {
        case .ddpm: steps = Array((0..<schedule.stepCount).reversed())
        case .ddim(let count): steps = schedule.evenlySpacedSteps(count)
        }
        return withoutGradients {
            var x = noise
            for (index, t) in steps.enumerated() {
                let current = x
                let predictedNoise = predictor(current, [Int](repeating: t, count: x.shape[0]), labels)
                let next = index + 1 < steps.count ? steps[index + 1] : -1
                switch sampler {
                case .ddpm: x = ancestralStep(x, step: t, predictedNoise: predictedNoise, using: &generator)
                case .ddim: x = implicitStep(x, from: t, to: next, predictedNoise: predictedNoise)
                }
                if let constrain { x = constrain(x, next, &generator) }
                if let observe {
                    observe(SamplingStep(index: index + 1, count: steps.count, step: t, x: x,
                                         predictedData: predictedData(from: current, step: t, noise: predictedNoise)))
                }
            }
            return x
        }
    }

    /// Classifier-free guidance: ε̃ = (1 + w) ε̂(x, y) − w ε̂(x, ∅), where ∅ is `nullLabel`, the
    /// label the network was trained with when the class was dropped. w = 0 is the plain
    /// conditional model; larger w trades variety for images that look more like their class.
    /// Both predictions come from one pass over a doubled batch.
    public static func guided(_ predictor: @escaping NoisePredictor, scale w: Double, nullLabel: Int) -> NoisePredictor {
        classifierFreeGuidance(predictor, scale: w, nullLabel: nullLabel)
    }
}
