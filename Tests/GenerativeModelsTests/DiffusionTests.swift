import Foundation
import Testing
import GenerativeModels
import NeuralNetworks
import TestSupport

/// The ideal noise predictor of `diffusion` when all data is the one image `target` (x*):
/// ε̂(x_t) = (x_t − √ᾱ_t x*)/√(1 − ᾱ_t).
private func pointMassOracle(_ diffusion: GaussianDiffusion, _ target: Tensor) -> NoisePredictor {
    { x, steps, _ in
        let alphaBar = diffusion.schedule.alphaBars[steps[0]]
        return (x - target * alphaBar.squareRoot()) * (1 / (1 - alphaBar).squareRoot())
    }
}

/// The noise schedules, the forward process, both samplers and the variational bound, on data
/// whose ideal noise predictor is known in closed form.
@Suite struct DiffusionTests {
    /// Without clipping, a DDIM step is one Euler step of the probability-flow ODE dy/dσ = ε̂ in
    /// y = x_t/√ᾱ_t and σ = √((1 − ᾱ_t)/ᾱ_t), as the flow chapter says; σ reaches about 157 on the linear schedule.
    @Test func ddimIsAnEulerStepOfTheProbabilityFlowODE() {
        let diffusion = GaussianDiffusion(schedule: .linear())
        let alphaBars = diffusion.schedule.alphaBars
        var rng = RandomGenerator(seed: 5)
        let x = Tensor.randomNormal([3, 4], dtype: .float64, using: &rng), noise = Tensor.randomNormal([3, 4], dtype: .float64, using: &rng)
        func sigma(_ step: Int) -> Double { step < 0 ? 0 : ((1 - alphaBars[step]) / alphaBars[step]).squareRoot() }
        for (t, s) in [(999, 500), (400, 10), (10, -1)] {
            let y = x * (1 / alphaBars[t].squareRoot()) + noise * (sigma(s) - sigma(t))     // y_s = y_t + (σ_s − σ_t) ε̂
            let expected = y * (s < 0 ? 1 : alphaBars[s].squareRoot())
            let step = diffusion.implicitStep(x, from: t, to: s, predictedNoise: noise, clipsData: false)
            expectClose(step.doubles, expected.doubles, tolerance: 1e-12)
        }
        #expect(abs(sigma(999) - 157.4) < 0.05)
    }

    @Test func linearAndCosineSchedules() {
        let linear = NoiseSchedule.linear()
        #expect(linear.stepCount == 1000 && linear.betas[0] == 1e-4 && abs(linear.betas[999] - 0.02) < 1e-15)
        #expect(abs(linear.alphaBars[0] - (1 - 1e-4)) < 1e-15)
        #expect(abs(linear.alphaBars[999] - 4.0358297653756754e-05) < 1e-15)          // ∏ (1 − β), worked out in Python
        #expect(zip(linear.alphaBars, linear.alphaBars.dropFirst()).allSatisfy { $0 > $1 })
        #expect(linear.alphaBar(before: 0) == 1 && linear.posteriorVariance(0) == 0)
        let cosine = NoiseSchedule.cosine()
        #expect(abs(cosine.alphaBars[499] - 0.49384359044063775) < 1e-12)           // f(0.5)/f(0)
        #expect(cosine.betas.max()! == 0.999)                                         // the last step is capped
        // A schedule is rebuilt from its recipe, as a checkpoint's configuration gives it.
        #expect(NoiseSchedule(linear.recipe).betas == linear.betas && NoiseSchedule(cosine.recipe).betas == cosine.betas)
        #expect(NoiseSchedule(betas: [0.1, 0.2]).recipe == .betas([0.1, 0.2]))
        #expect(NoiseSchedule.Recipe.linear(stepCount: 1, start: 1e-4, end: 0.02).problem?.contains("2…100000 steps") == true)
        #expect(NoiseSchedule.Recipe.linear(stepCount: 10, start: 0.5, end: 0.1).problem?.contains("start ≤ end") == true)
        #expect(NoiseSchedule.Recipe.cosine(stepCount: 10, offset: 0.008, maximumBeta: 1).problem?.contains("maximum β") == true)
        #expect(NoiseSchedule.Recipe.betas([0.5, 1]).problem != nil && NoiseSchedule.Recipe.betas([]).problem != nil)
        let visited = linear.evenlySpacedSteps(50)
        #expect(visited.count == 50 && visited.first == 999 && visited.last == 0 && zip(visited, visited.dropFirst()).allSatisfy { $0 > $1 })
    }

    @Test func noisingFollowsTheClosedForm() {
        let diffusion = GaussianDiffusion(schedule: NoiseSchedule(betas: [0.1, 0.2]))       // ᾱ = 0.9, 0.72
        let data = Tensor([0.5, -1], shape: [2, 1, 1, 1], dtype: .float64)
        let noise = Tensor([1, 2], shape: [2, 1, 1, 1], dtype: .float64)
        let x = diffusion.noised(data, steps: [0, 1], noise: noise).doubles
        #expect(abs(x[0] - (0.9.squareRoot() * 0.5 + 0.1.squareRoot())) < 1e-15)
        #expect(abs(x[1] - (-0.72.squareRoot() + 2 * 0.28.squareRoot())) < 1e-15)
        #expect(diffusion.predictedData(from: diffusion.noised(data, steps: [1, 1], noise: noise), step: 1, noise: noise)
            .doubles.enumerated().allSatisfy { abs($0.element - data.doubles[$0.offset]) < 1e-14 })
    }

    /// If all data is one image x*, the ideal predictor is ε̂(x_t) = (x_t − √ᾱ_t x*)/√(1 − ᾱ_t), and
    /// both samplers must end exactly on x*, from any noise.
    @Test func samplersRecoverAPointMass() {
        let diffusion = GaussianDiffusion(schedule: .linear())
        let target = Tensor([0.25, -0.5, 0.75, 0], shape: [1, 1, 2, 2], dtype: .float64)
        let oracle = pointMassOracle(diffusion, target)
        var rng = RandomGenerator(seed: 1)
        let noise = Tensor.randomNormal([3, 1, 2, 2], dtype: .float64, using: &rng)
        for sampler in [GaussianDiffusion.Sampler.ddpm, .ddim(steps: 20)] {
            var observed = 0
            let samples = diffusion.sample(from: noise, sampler: sampler, using: &rng, predictor: oracle) { _ in observed += 1 }
            #expect(observed == (sampler == .ddpm ? 1000 : 20))
            for image in 0..<3 {
                let drawn = samples.slice(image..<(image + 1), alongAxis: 0).doubles
                #expect(zip(drawn, target.doubles).allSatisfy { abs($0 - $1) < 1e-9 }, "\(sampler) image \(image): \(drawn)")
            }
        }
    }

    /// For data x₀ ~ N(0, s²), x_t ~ N(0, v_t) with v_t = ᾱ_t s² + 1 − ᾱ_t and the ideal predictor is
    /// E[ε | x_t] = √(1 − ᾱ_t) x_t / v_t. DDPM's samples must have spread s. DDIM is then a linear
    /// map x_T ↦ k·x_T, and with few steps k falls short of s (0.1758 for 50 steps, worked out in
    /// Python): the discretised deterministic path shrinks the spread.
    @Test func samplersOnGaussianData() {
        let diffusion = GaussianDiffusion(schedule: .linear())
        let spread = 0.2
        let ideal: NoisePredictor = { x, steps, _ in
            let alphaBar = diffusion.schedule.alphaBars[steps[0]]
            return x * ((1 - alphaBar).squareRoot() / (alphaBar * spread * spread + 1 - alphaBar))
        }
        var rng = RandomGenerator(seed: 2)
        let noise = Tensor.randomNormal([8000, 1, 1, 1], dtype: .float64, using: &rng)
        let values = diffusion.sample(from: noise, sampler: .ddpm, using: &rng, predictor: ideal).doubles
        let mean = values.reduce(0, +) / Double(values.count)
        let deviation = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
        #expect(abs(mean) < 0.01 && abs(deviation - spread) < 0.01, "DDPM: mean \(mean), spread \(deviation)")
        let deterministic = diffusion.sample(from: noise, sampler: .ddim(steps: 50), using: &rng, predictor: ideal).doubles
        #expect(zip(deterministic, noise.doubles).allSatisfy { abs($0 - 0.17581838936442276 * $1) < 1e-9 })
    }

    /// Inpainting by replacement: the known pixels, noised to each step's level, are put back after
    /// every step; the final image keeps them exactly and the point-mass oracle fills in the rest.
    @Test func constrainedSamplingKeepsTheKnownPixels() {
        let diffusion = GaussianDiffusion(schedule: .linear())
        let target = Tensor([0.25, -0.5, 0.75, 0], shape: [1, 1, 2, 2], dtype: .float64)
        let oracle = pointMassOracle(diffusion, target)
        let known = Tensor([0.9, 0.9, 0.9, 0.9], shape: [1, 1, 2, 2], dtype: .float64)      // disagrees with the oracle on purpose
        let mask = Tensor([1, 0, 0, 1], shape: [1, 1, 2, 2], dtype: .float64)
        var steps: [Int] = []
        var rng = RandomGenerator(seed: 5)
        let result = diffusion.sample(from: Tensor.randomNormal([1, 1, 2, 2], dtype: .float64, using: &rng), sampler: .ddim(steps: 10), using: &rng,
                                      predictor: oracle, constrain: { x, step, rng in
            steps.append(step)
            let level = step < 0 ? known : diffusion.noised(known, steps: [step], noise: Tensor.randomNormal(known.shape, dtype: .float64, using: &rng))
            return level * mask + x * (1 - mask)
        }).doubles
        #expect(steps == Array(diffusion.schedule.evenlySpacedSteps(10).dropFirst()) + [-1])
        #expect(result[0] == 0.9 && result[3] == 0.9 && abs(result[1] + 0.5) < 1e-9 && abs(result[2] - 0.75) < 1e-9, "\(result)")
    }

    @Test func guidanceExtrapolatesFromTheUnconditionalPrediction() {
        let predictor: NoisePredictor = { x, _, labels in
            Tensor(labels!.map { $0 == 10 ? 1.0 : 3.0 }, shape: [x.shape[0], 1, 1, 1], dtype: .float64)
        }
        let guided = GaussianDiffusion.guided(predictor, scale: 2, nullLabel: 10)
        let x = Tensor.zeros([2, 1, 1, 1], dtype: .float64)
        #expect(guided(x, [5, 5], [3, 7]).doubles == [7, 7])                                  // (1 + 2)·3 − 2·1
        #expect(GaussianDiffusion.guided(predictor, scale: 0, nullLabel: 10)(x, [5, 5], [3, 7]).doubles == [3, 3])
    }

    /// With the oracle of a point mass plus a constant error c in every pixel, every step's term is
    /// its coefficient · D c² and the prior and decoder terms have closed forms.
    @Test func variationalBoundTermByTerm() {
        let diffusion = GaussianDiffusion(schedule: NoiseSchedule(betas: [0.1, 0.2, 0.3, 0.4]))
        let target = Tensor([0, 1], shape: [1, 1, 1, 2], dtype: .float64)                       // one interior, one edge pixel
        let error = 0.5
        let oracle = pointMassOracle(diffusion, target)
        func predictor(_ x: Tensor, _ steps: [Int], _ labels: [Int]?) -> Tensor { oracle(x, steps, labels) + error }
        var rng = RandomGenerator(seed: 4)
        let exact = diffusion.variationalBound(target, strata: 3, using: &rng) { predictor($0, $1, $2) }
        #expect(abs(exact.diffusion - 2.6873491332016686 * 2 * error * error) < 1e-9)           // Σ coefficients, by hand
        #expect(abs(exact.prior - (0.02885470319368358 + 0.18005470319368358)) < 1e-12)
        // The decoder's mean is x̂₀ = x* − c √(1 − ᾱ₀)/√ᾱ₀, its spread √β₀.
        let shift = error * (0.1 / 0.9).squareRoot()
        let spread = 0.1.squareRoot(), halfBin = 1.0 / 255
        func cdf(_ z: Double) -> Double { 0.5 * erfc(-z / (spread * 2.0.squareRoot())) }
        let interior = log(cdf(halfBin + shift) - cdf(-halfBin + shift)), edge = log(1 - cdf(-halfBin + shift))
        #expect(abs(exact.decoder + interior + edge) < 1e-9)
        #expect(exact.dimensions == 2 && abs(exact.bitsPerDimension - exact.total / (2 * log(2.0))) < 1e-12)
        // One stratum draws one step per image and weighs it by 3: unbiased, so the average over draws is the sum.
        let draws = (0..<3000).map { _ in diffusion.variationalBound(target, strata: 1, using: &rng) { predictor($0, $1, $2) }.diffusion }
        #expect(abs(draws.reduce(0, +) / 3000 - exact.diffusion) < 0.05 * exact.diffusion)
    }
}
