import Foundation
import Testing
import GenerativeModels
import NeuralNetworks
import TestSupport

/// Flow matching: the straight path and its velocity by hand, the three readings of one
/// prediction (data, noise, score), and the samplers on velocity fields known in closed form.
@Suite struct FlowMatchingTests {
    private func vectors(_ values: [Double], columns: Int) -> Tensor {
        Tensor(values, shape: [values.count / columns, columns], dtype: .float64)
    }

    @Test func thePathAndItsVelocityByHand() {
        let data = vectors([1, 2, -4, 0], columns: 2), noise = vectors([3, -1, 0, 8], columns: 2)
        // (1 − t)·x₀ + t·ε at t = 0.25 for the first row and t = 1 for the second.
        #expect(FlowMatching.interpolated(data, noise: noise, times: [0.25, 1]).doubles == [1.5, 1.25, 0, 8])
        #expect(FlowMatching.interpolated(data, noise: noise, times: [0, 0]).doubles == data.doubles)
        #expect(FlowMatching.velocity(from: data, to: noise).doubles == [2, -3, 4, 8])
        // Images: one time per image, broadcast over its pixels.
        let images = Tensor.ones([2, 1, 2, 2], dtype: .float64)
        #expect(FlowMatching.interpolated(images, noise: images * 3, times: [0.5, 0]).doubles == [2, 2, 2, 2, 1, 1, 1, 1])
    }

    @Test func dataNoiseAndScoreAreOnePredictionRescaled() {
        var rng = RandomGenerator(seed: 1)
        let data = Tensor.randomNormal([4, 3], dtype: .float64, using: &rng), noise = Tensor.randomNormal([4, 3], dtype: .float64, using: &rng)
        let times = [0.1, 0.4, 0.7, 1.0]
        let x = FlowMatching.interpolated(data, noise: noise, times: times)
        let velocity = FlowMatching.velocity(from: data, to: noise)
        expectClose(FlowMatching.predictedData(x, velocity: velocity, times: times).doubles, data.doubles, tolerance: 1e-12)
        expectClose(FlowMatching.predictedNoise(x, velocity: velocity, times: times).doubles, noise.doubles, tolerance: 1e-12)
        // Data all at one point c: p_t = N((1 − t)c, t²I), whose score is −(x − (1 − t)c)/t²,
        // and the marginal velocity is (x − c)/t.
        let c = [0.5, -1.0, 2.0], t = 0.3
        let point = vectors(c, columns: 3), at = vectors([1, 1, -1], columns: 3)
        let exactScore = (0..<3).map { -(at.doubles[$0] - (1 - t) * c[$0]) / (t * t) }
        let score = FlowMatching.score(at, velocity: (at - point) * (1 / t), times: [t])
        expectClose(score.doubles, exactScore, tolerance: 1e-12)
    }

    /// The marginal velocity of data at the single point c: (x − c)/t, whose paths are straight.
    private func pointMass(_ c: Tensor) -> VelocityPredictor {
        { x, times, _ in (x - c) * Tensor(times.map { 1 / $0 }, shape: [times.count, 1], dtype: .float64) }
    }

    @Test func samplersCarryNoiseOntoAPointMass() {
        var rng = RandomGenerator(seed: 2)
        let noise = Tensor.randomNormal([5, 2], dtype: .float64, using: &rng)
        let c = Tensor([0.25, -0.75], shape: [1, 2], dtype: .float64)
        let target = [Double]((0..<5).flatMap { _ in c.doubles })
        for sampler in [FlowMatching.Sampler.euler(steps: 1), .euler(steps: 7), .heun(steps: 1), .heun(steps: 4)] {
            var seen: [Int] = []
            let samples = FlowMatching.sample(from: noise, sampler: sampler, predictor: pointMass(c)) { seen.append($0.index) }
            expectClose(samples.doubles, target, tolerance: 1e-12)
            #expect(seen == Array(1...sampler.steps))
            let (again, straightness) = FlowMatching.straightness(from: noise, sampler: sampler, predictor: pointMass(c))
            #expect(again.doubles == samples.doubles && abs(straightness) < 1e-20)
        }
        #expect(FlowMatching.Sampler.euler(steps: 5).networkEvaluations == 5 && FlowMatching.Sampler.heun(steps: 5).networkEvaluations == 9)
        #expect(FlowMatching.Sampler.heun(steps: 0).problem != nil && FlowMatching.Sampler.euler(steps: 3).description == "Euler-3")
    }

    /// Inpainting by replacement: after every step the known values are put back at the point their
    /// straight line has reached, (1 − t)·known + t·noise; the result keeps them exactly and the
    /// point-mass field fills in the rest.
    @Test func constrainedSamplingKeepsTheKnownValues() {
        var rng = RandomGenerator(seed: 5)
        let noise = Tensor.randomNormal([1, 4], dtype: .float64, using: &rng)
        let c = Tensor([0.25, -0.5, 0.75, 0], shape: [1, 4], dtype: .float64)
        let known = Tensor([0.9, 0.9, 0.9, 0.9], shape: [1, 4], dtype: .float64)      // disagrees with the field on purpose
        let mask = Tensor([1, 0, 0, 1], shape: [1, 4], dtype: .float64)
        var times: [Double] = []
        let result = FlowMatching.sample(from: noise, sampler: .euler(steps: 4), predictor: pointMass(c), constrain: { x, t in
            times.append(t)
            return FlowMatching.interpolated(known, noise: noise, times: [t]) * mask + x * (1 - mask)
        }).doubles
        #expect(times == [0.75, 0.5, 0.25, 0])
        #expect(result[0] == 0.9 && result[3] == 0.9 && abs(result[1] + 0.5) < 1e-12 && abs(result[2] - 0.75) < 1e-12, "\(result)")
    }

    /// One-dimensional Gaussian data N(μ, s²): the marginal velocity is −μ + (t − (1 − t)s²)/σ_t² ·
    /// (x − (1 − t)μ) with σ_t² = (1 − t)²s² + t², and the ODE takes the noise z to μ + s·z. Heun's
    /// error falls with the square of the step, Euler's only in proportion; and these paths bend.
    @Test func heunIsSecondOrderAndEulerFirst() {
        let (mu, s) = (0.5, 0.3)
        let gaussian: VelocityPredictor = { x, times, _ in
            let t = times[0], variance = (1 - t) * (1 - t) * s * s + t * t
            return (x - (1 - t) * mu) * ((t - (1 - t) * s * s) / variance) - mu
        }
        let z = [-1.5, 0.2, 2.0], noise = vectors(z, columns: 1)
        func error(_ sampler: FlowMatching.Sampler) -> Double {
            let samples = FlowMatching.sample(from: noise, sampler: sampler, predictor: gaussian).doubles
            return zip(samples, z).map { abs($0 - (mu + s * $1)) }.max()!
        }
        let (euler10, euler20, heun10, heun20) = (error(.euler(steps: 10)), error(.euler(steps: 20)), error(.heun(steps: 10)), error(.heun(steps: 20)))
        #expect((1.7...2.3).contains(euler10 / euler20), "Euler: \(euler10) → \(euler20)")
        #expect((3.4...4.6).contains(heun10 / heun20), "Heun: \(heun10) → \(heun20)")
        // At the same cost, nineteen network evaluations, Heun is closer.
        #expect(heun10 < error(.euler(steps: 19)) / 1.5, "Heun-10 \(heun10), Euler-19 \(error(.euler(steps: 19)))")
        #expect(FlowMatching.straightness(from: noise, sampler: .euler(steps: 20), predictor: gaussian).straightness > 1e-3)
    }

    @Test func guidanceMixesTheClassAndTheNullPrediction() {
        var calls = 0
        let predictor: VelocityPredictor = { x, _, labels in
            calls += 1
            return Tensor(labels!.map(Double.init), shape: [x.shape[0], 1], dtype: .float64)
        }
        let guided = FlowMatching.guided(predictor, scale: 2, nullLabel: 10)
        // (1 + w)·v(x, y) − w·v(x, ∅) = 3y − 20, in one call.
        #expect(guided(Tensor.zeros([2, 1], dtype: .float64), [0.5, 0.5], [1, 4]).doubles == [-17, -8] && calls == 1)
        #expect(FlowMatching.guided(predictor, scale: 0, nullLabel: 10)(Tensor.zeros([1, 1], dtype: .float64), [1], [7]).doubles == [7])
    }

    @Test func velocityNetworksShapesNamesAndGradients() throws {
        var rng = RandomGenerator(seed: 4)
        let unet = FlowUNet(width: 8, classCount: 10, using: &rng)
        #expect(unet.namedParameters().first?.name == "unet.t1.weight")
        #expect(withoutGradients { unet.predictor(Tensor.zeros([2, 1, 28, 28]), [0, 1], nil) }.shape == [2, 1, 28, 28])
        let mlp = VelocityMLP(dimension: 3, width: 6, depth: 2, classCount: 2, dtype: .float64, using: &rng)
        #expect(mlp.namedParameters().map(\.name) == ["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias",
                                                        "net.4.weight", "net.4.bias", "class_embedding.weight"])
        let x = Tensor.randomNormal([4, 3], dtype: .float64, using: &rng)
        x.requiresGrad = true
        let report = gradientCheck(inPlace: [x] + mlp.parameters) { mlp(x, times: [0, 0.2, 0.6, 1], labels: [0, 1, 2, 1]) }
        #expect(report.passed, "\(report)")
        // Configurations round-trip through JSON and refuse what cannot be built.
        let configuration = try VelocityMLP.Configuration.decoded(from: mlp.configuration.json, source: "test")
        #expect(configuration == mlp.configuration && configuration.sampler == .heun(steps: 10))
        #expect(throws: InvalidConfiguration.self) {
            try FlowUNet.Configuration.decoded(from: FlowUNet.Configuration(width: 12).json, source: "test")
        }
        #expect(throws: InvalidConfiguration.self) {
            try VelocityMLP.Configuration.decoded(from: VelocityMLP.Configuration(dimension: 2, sampler: .euler(steps: 0)).json, source: "test")
        }
    }
}
