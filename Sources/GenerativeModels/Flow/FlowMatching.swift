import NeuralNetworks

/// A network that predicts the velocity dx/dt of a batch `x` at times `times` (one per item, in
/// [0, 1]), optionally for class `labels`: same shape in and out.
public typealias VelocityPredictor = (_ x: Tensor, _ times: [Double], _ labels: [Int]?) -> Tensor

/// Flow matching on straight paths (rectified flow). Data x₀ sits at t = 0, Gaussian noise ε at
/// t = 1, and between them the point x_t = (1 − t)·x₀ + t·ε moves with the constant velocity
/// ε − x₀. A network regressed on that velocity learns, at every (x, t), its average over all the
/// pairs whose paths pass there — a velocity field whose ODE dx/dt = v(x, t), integrated from
/// t = 1 back to 0, carries the noise distribution onto the data distribution.
///
/// Works on any shape of data, `[B, …]`: images, the 2-D toy points, a VAE's latent codes.
public enum FlowMatching {
    /// How the ODE is integrated from t = 1 to t = 0, over `steps` equal steps of h = 1/steps.
    public enum Sampler: Codable, Sendable, Equatable, CustomStringConvertible {
        /// x ← x − h·v(x, t): one network evaluation per step; error O(h).
        case euler(steps: Int)
        /// Heun's method: an Euler step to x′, then the step again with the average of the
        /// velocities at both ends, x ← x − h·(v(x, t) + v(x′, t − h))/2; error O(h²). The last
        /// step, onto the data, stays an Euler step (as in Karras et al.'s sampler): at t = 0 the
        /// velocity can be undefined away from the data — for data at one point c it is (x − c)/t —
        /// so n steps cost 2n − 1 evaluations.
        case heun(steps: Int)

        public var steps: Int {
            switch self {
            case .euler(let steps), .heun(let steps): return steps
            }
        }

        /// The network evaluations per image (doubled by guidance).
        public var networkEvaluations: Int {
            switch self {
            case .euler(let steps): return steps
            case .heun(let steps): return 2 * steps - 1
            }
        }

        /// Why no image can be drawn with it, or nil.
        public var problem: String? {
            (1...10_000).contains(steps) ? nil : "a \(self) sampler needs 1…10000 steps, got \(steps)"
        }

        public var description: String {
            switch self {
            case .euler(let steps): return "Euler-\(steps)"
            case .heun(let steps): return "Heun-\(steps)"
            }
        }
    }

    /// What a sampler did at one step, for progress bars and pictures of trajectories.
    public struct Step {
        /// 1 for the first step taken, up to `count`.
        public let index: Int, count: Int
        /// The time the batch has reached, and the batch itself.
        public let time: Double, x: Tensor
        /// The velocity the step moved with (for Heun, the average of its two).
        public let velocity: Tensor
    }

    /// Sinusoidal features of times in [0, 1] for a network's input. The embedding's frequencies
    /// were made for diffusion steps 0…1000, so the times are stretched to that range first.
    public static func timeEmbedding(_ times: [Double], dimension: Int = 64, dtype: DType) -> Tensor {
        sinusoidalEmbedding(times.map { $0 * timeScale }, dimension: dimension, dtype: dtype)
    }

    /// Times in [0, 1] times this are what the sinusoidal embedding sees.
    public static let timeScale = 1000.0

    /// One value per item, shaped `[B, 1, …]` to broadcast over a batch shaped like `data`.
    static func perItem(_ values: [Double], like data: Tensor) -> Tensor {
        Tensor(values, shape: [values.count] + [Int](repeating: 1, count: data.rank - 1), dtype: data.dtype)
    }

    // MARK: - The path and its velocity

    /// x_t = (1 − t)·x₀ + t·ε, one time per item.
    public static func interpolated(_ data: Tensor, noise: Tensor, times: [Double]) -> Tensor {
        require(data.shape == noise.shape && times.count == data.shape[0],
                "FlowMatching.interpolated: data \(data.shape), noise \(noise.shape) and \(times.count) times do not match")
        return data * perItem(times.map { 1 - $0 }, like: data) + noise * perItem(times, like: data)
    }

    /// dx_t/dt = ε − x₀: the velocity of every point on the path from x₀ to ε, and the regression
    /// target of flow matching.
    public static func velocity(from data: Tensor, to noise: Tensor) -> Tensor { noise - data }

    // MARK: - One quantity, three readings

    /// x̂₀ = x_t − t·v̂: where the path through x_t started, if v̂ is its velocity.
    public static func predictedData(_ x: Tensor, velocity: Tensor, times: [Double]) -> Tensor {
        x - velocity * perItem(times, like: x)
    }

    /// ε̂ = x_t + (1 − t)·v̂: where the path through x_t ends, the quantity a diffusion network predicts.
    public static func predictedNoise(_ x: Tensor, velocity: Tensor, times: [Double]) -> Tensor {
        x + velocity * perItem(times.map { 1 - $0 }, like: x)
    }

    /// The score ∇ log p_t(x) = −ε̂ / σ_t, with σ_t = t the noise's share of x_t on this path
    /// (ε̂ = −σ_t · score, as for any Gaussian path). Defined for t > 0.
    public static func score(_ x: Tensor, velocity: Tensor, times: [Double]) -> Tensor {
        require(times.allSatisfy { $0 > 0 }, "FlowMatching.score: the score of the data itself (t = 0) is not defined")
        return predictedNoise(x, velocity: velocity, times: times) * perItem(times.map { -1 / $0 }, like: x)
    }

    // MARK: - Sampling

    /// Integrates dx/dt = v(x, t) from the noise `noise` at t = 1 to t = 0 with `sampler`, with no
    /// gradients recorded; `observe` sees every step. `constrain`, when given, may rewrite x after
    /// every step; it receives x and the time x has reached (0 after the last step).
    public static func sample(from noise: Tensor, sampler: Sampler, labels: [Int]? = nil, predictor: VelocityPredictor,
                              observe: ((Step) -> Void)? = nil,
                              constrain: ((_ x: Tensor, _ time: Double) -> Tensor)? = nil) -> Tensor {
        require(sampler.problem == nil, "FlowMatching.sample: \(sampler.problem ?? "")")
        let count = sampler.steps, h = 1 / Double(count), batch = noise.shape[0]
        func times(_ t: Double) -> [Double] { [Double](repeating: t, count: batch) }
        return withoutGradients {
            var x = noise
            for index in 0..<count {
                let t = 1 - Double(index) * h, next = index + 1 == count ? 0 : 1 - Double(index + 1) * h
                var velocity = predictor(x, times(t), labels)
                if case .heun = sampler, index + 1 < count {
                    let trial = x - velocity * (t - next)
                    velocity = (velocity + predictor(trial, times(next), labels)) * 0.5
                }
                x = x - velocity * (t - next)
                if let constrain { x = constrain(x, next) }
                observe?(Step(index: index + 1, count: count, time: next, x: x, velocity: velocity))
            }
            return x
        }
    }

    /// How far from straight the sampler's paths are: the mean, over its steps and over every
    /// member of the batch, of ‖(ε − x̂₀) − v‖² / D, the squared gap between each step's velocity
    /// and the straight line from where the path began (ε) to where it ended (x̂₀), per dimension D.
    /// 0 for paths that are straight lines travelled at constant speed (Liu et al.'s straightness,
    /// discretised). Returns the samples too, so that measuring costs no extra draw.
    public static func straightness(from noise: Tensor, sampler: Sampler, labels: [Int]? = nil,
                                    predictor: VelocityPredictor) -> (samples: Tensor, straightness: Double) {
        var velocities: [Tensor] = []
        let samples = sample(from: noise, sampler: sampler, labels: labels, predictor: predictor) { velocities.append($0.velocity) }
        let line = velocity(from: samples, to: noise)
        let gaps = velocities.map { v in ((v - line) * (v - line)).mean().item }
        return (samples, gaps.reduce(0, +) / Double(gaps.count))
    }
}

/// Classifier-free guidance for any predictor of a class-conditional network: the prediction
/// p̃ = (1 + w)·p(x, y) − w·p(x, ∅), where ∅ is `nullLabel`, the label the network was trained with
/// when the class was dropped. Noise, velocity and score are affine in one another at a given
/// time, so the same rule serves all three. Both predictions come from one pass over a doubled batch.
func classifierFreeGuidance<Time>(_ predictor: @escaping (Tensor, [Time], [Int]?) -> Tensor, scale w: Double,
                                  nullLabel: Int) -> (Tensor, [Time], [Int]?) -> Tensor {
    { x, times, labels in
        guard let labels, w != 0 else { return predictor(x, times, labels) }
        let both = predictor(Tensor.concatenate([x, x], alongAxis: 0), times + times,
                             labels + [Int](repeating: nullLabel, count: labels.count))
        let halves = both.split(sizes: [x.shape[0], x.shape[0]], alongAxis: 0)
        return halves[0] * (1 + w) - halves[1] * w
    }
}

extension FlowMatching {
    /// Classifier-free guidance of a velocity: ṽ = (1 + w)·v(x, y) − w·v(x, ∅).
    public static func guided(_ predictor: @escaping VelocityPredictor, scale w: Double, nullLabel: Int) -> VelocityPredictor {
        classifierFreeGuidance(predictor, scale: w, nullLabel: nullLabel)
    }
}
