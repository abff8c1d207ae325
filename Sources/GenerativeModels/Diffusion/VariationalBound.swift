import Foundation
import NeuralNetworks

/// The DDPM variational bound on −log p(x₀) of 8-bit images, in nats per image, term by term:
/// −log p(x₀) ≤ L_prior + Σ_{t ≥ 1} L_t + L_decoder.
public struct VariationalBound: Sendable {
    /// KL(q(x_{T−1} | x₀) ‖ N(0, I)): how far the last noisy image is from pure noise (tiny).
    public let prior: Double
    /// Σ_t KL(q(x_{t−1} | x_t, x₀) ‖ p_θ(x_{t−1} | x_t)) over steps t = 1 … T−1 (estimated, see
    /// ``GaussianDiffusion/variationalBound(_:labels:strata:using:predictor:)``).
    public let diffusion: Double
    /// −log p_θ(x₀ | x at step 0): the discretised Gaussian decoder's cost of the exact pixel values.
    public let decoder: Double
    /// One (step, mean nats) pair per stratum: the cost of a single step t, to draw where the bound is spent.
    public let stepTerms: [(step: Int, nats: Double)]
    /// The number of values per image, D.
    public let dimensions: Int

    /// The whole bound, in nats per image.
    public var total: Double { prior + diffusion + decoder }

    /// The bound in bits per dimension, total / (D ln 2), as diffusion papers report likelihoods.
    public var bitsPerDimension: Double { total / (Double(dimensions) * Foundation.log(2.0)) }
}

extension GaussianDiffusion {
    /// The variational bound of `data` (`[B, C, H, W]`, pixels k/127.5 − 1 of 8-bit images), averaged
    /// over the batch, for a network that predicts ε and a reverse process with variance β̃_t
    /// (β₀ at step 0), as ``ancestralStep(_:step:predictedNoise:clipsData:using:)`` samples it
    /// without clipping.
    ///
    /// With the reverse mean written through ε̂, the step-t term is the KL between two Gaussians of
    /// equal variance β̃_t, β_t² / (2 β̃_t α_t (1 − ᾱ_t)) · ‖ε − ε̂‖², for one draw of ε. Summing it
    /// over all T − 1 steps costs T − 1 network passes per image, so the steps are split into
    /// `strata` equal blocks and one step drawn per block and image, weighted by the block's
    /// length: an unbiased estimate of the sum, exact when `strata` ≥ T − 1.
    public func variationalBound(_ data: Tensor, labels: [Int]? = nil, strata: Int, using generator: inout RandomGenerator,
                                 predictor: NoisePredictor) -> VariationalBound {
        require(data.rank == 4 && strata >= 1, "variationalBound: expected [B, C, H, W] images and at least one stratum, got \(data.shape), \(strata)")
        let batch = data.shape[0], dimensions = data.count / batch, last = schedule.stepCount - 1
        let pixels = data.doubles

        // Prior: Σ_pixels KL(N(√ᾱ x₀, 1 − ᾱ) ‖ N(0, 1)) = ½ Σ (ᾱ x₀² − ᾱ − log(1 − ᾱ)).
        let finalAlphaBar = schedule.alphaBars[last]
        let prior = pixels.reduce(0) { $0 + 0.5 * (finalAlphaBar * $1 * $1 - finalAlphaBar - Foundation.log(1 - finalAlphaBar)) } / Double(batch)

        return withoutGradients {
            // Decoder: the discretised Gaussian N(μ_θ, β₀) integrated over each pixel's bin of width 2/255.
            // At step 0, ᾱ₀ = α₀, so the reverse mean (x − β₀/√(1 − ᾱ₀) ε̂)/√α₀ is exactly x̂₀.
            let noise0 = Tensor.randomNormal(data.shape, dtype: data.dtype, using: &generator)
            let x0 = noised(data, steps: [Int](repeating: 0, count: batch), noise: noise0)
            let predicted0 = predictor(x0, [Int](repeating: 0, count: batch), labels)
            let decoderMean = predictedData(from: x0, step: 0, noise: predicted0).doubles
            let decoder = zip(pixels, decoderMean).reduce(0) {
                $0 - discretizedGaussianLogProbability(of: $1.0, mean: $1.1, standardDeviation: schedule.betas[0].squareRoot())
            } / Double(batch)

            // Diffusion steps 1 … T−1, one random step per stratum and image.
            let blocks = min(strata, last)
            var diffusion = 0.0
            var stepTerms: [(step: Int, nats: Double)] = []
            for block in 0..<blocks {
                let lower = 1 + block * last / blocks, upper = 1 + (block + 1) * last / blocks          // steps lower..<upper
                let steps = (0..<batch).map { _ in lower + generator.nextInt(below: upper - lower) }
                let noise = Tensor.randomNormal(data.shape, dtype: data.dtype, using: &generator)
                let error = predictor(noised(data, steps: steps, noise: noise), steps, labels) - noise
                let squaredErrors = (error * error).sum(alongAxes: [1, 2, 3]).doubles                        // [B]
                let terms = zip(steps, squaredErrors).map { t, squaredError in
                    let beta = schedule.betas[t], alphaBar = schedule.alphaBars[t]
                    return beta * beta / (2 * schedule.posteriorVariance(t) * (1 - beta) * (1 - alphaBar)) * squaredError
                }
                let mean = terms.reduce(0, +) / Double(batch)
                diffusion += mean * Double(upper - lower)
                stepTerms.append(((lower + upper - 1) / 2, mean))
            }
            return VariationalBound(prior: prior, diffusion: diffusion, decoder: decoder, stepTerms: stepTerms, dimensions: dimensions)
        }
    }
}

/// log P(pixel) for a Gaussian of `mean` and `standardDeviation` integrated over the pixel's bin
/// [value − 1/255, value + 1/255]; the bins of −1 and 1 extend to −∞ and ∞, so the probabilities
/// of the 256 levels sum to 1. Clamped at 10⁻¹² so one hopeless pixel cannot make it infinite.
func discretizedGaussianLogProbability(of value: Double, mean: Double, standardDeviation: Double) -> Double {
    let halfBin = 1.0 / 255
    func normalCDF(_ x: Double) -> Double { 0.5 * Foundation.erfc(-(x - mean) / (standardDeviation * 2.0.squareRoot())) }
    let upper = value > 1 - halfBin ? 1 : normalCDF(value + halfBin)
    let lower = value < -1 + halfBin ? 0 : normalCDF(value - halfBin)
    return Foundation.log(max(upper - lower, 1e-12))
}
