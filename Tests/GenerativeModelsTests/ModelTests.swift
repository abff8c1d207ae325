import Foundation
import Testing
import GenerativeModels
import NeuralNetworks
import TestSupport

/// The models' shapes, parameter counts (as benchmarks.md gives them) and PyTorch names.
@Suite struct ModelTests {
    @Test func dcganMatchesTheSource() {
        var rng = RandomGenerator(seed: 0)
        let generator = DCGANGenerator(latentCount: 100, widths: [512, 256, 128], imageChannels: 3, using: &rng)
        let discriminator = DCGANDiscriminator(widths: [128, 256, 512], imageChannels: 3, using: &rng)
        #expect(generator.parameterCount == 3_448_576 && discriminator.parameterCount == 2_637_312)
        #expect(generator.namedParameters().first?.name == "main.0.weight")
        let small = DCGANGenerator(latentCount: 8, widths: [16, 8, 4], imageChannels: 1, classCount: 10, using: &rng)
        let critic = DCGANDiscriminator(widths: [4, 8, 16], imageChannels: 1, classCount: 10, batchNorm: false, using: &rng)
        let images = withoutGradients { small(Tensor.randomNormal([3, 8, 1, 1], using: &rng), labels: [0, 5, 9]) }
        #expect(images.shape == [3, 1, 32, 32] && images.floats.allSatisfy { abs($0) < 1 })
        #expect(withoutGradients { critic(images, labels: [0, 5, 9]) }.shape == [3])
    }

    @Test func vaeMatchesTheSource() {
        var rng = RandomGenerator(seed: 0)
        let model = VariationalAutoencoder(imageChannels: 3, latentCount: 32, using: &rng)
        let encoder = model.namedParameters().filter { $0.name.hasPrefix("encoder.") }.reduce(0) { $0 + $1.tensor.count }
        #expect(encoder == 296_736 && model.parameterCount - encoder == 233_059)
        let (mean, logVariance) = withoutGradients { model.encode(Tensor.zeros([2, 3, 32, 32])) }
        #expect(mean.shape == [2, 32] && logVariance.shape == [2, 32])
        #expect(withoutGradients { model.decode(mean) }.shape == [2, 3, 32, 32])
    }

    @Test func tinyUNetMatchesTheSpecification() {
        var rng = RandomGenerator(seed: 0)
        let model = TinyUNet(using: &rng)
        #expect(model.parameterCount == 973_249)
        let names = model.namedParameters().map(\.name)
        #expect(names.contains("rb_d2.skip.weight") && names.contains("rb_m1.temb.weight") && names.last == "conv_out.bias")
        #expect(withoutGradients { model(Tensor.zeros([2, 1, 28, 28]), timesteps: [0, 999]) }.shape == [2, 1, 28, 28])
        // The embedding's first half is sin, the second cos, at frequencies 10000^(−i/32).
        let embedding = sinusoidalEmbedding([0, 1], dimension: 64, dtype: .float64).doubles
        #expect(embedding[0] == 0 && embedding[32] == 1 && abs(embedding[64] - sin(1.0)) < 1e-15 && abs(embedding[64 + 33] - cos(pow(10000, -1.0 / 32))) < 1e-15)
        // Continuous times, as a flow model's t ∈ [0, 1]: the same formula, in the tensor's dtype;
        // whole-number times give the steps' embedding.
        let continuous = sinusoidalEmbedding(Tensor([0.25, 1], shape: [2], dtype: .float64), dimension: 64)
        #expect(continuous.shape == [2, 64] && continuous.dtype == .float64)
        #expect(abs(continuous.doubles[1] - sin(0.25 * pow(10000, -1.0 / 32))) < 1e-15 && abs(continuous.doubles[32] - cos(0.25)) < 1e-15)
        #expect(Array(continuous.doubles[64...]) == Array(embedding[64...]))
    }

    /// The residual block's gradients with respect to its input, the time embedding and every parameter.
    @Test func timeResidualBlockGradients() {
        var rng = RandomGenerator(seed: 3)
        let block = TimeResidualBlock(inputChannels: 8, outputChannels: 16, timeDimension: 4, groups: 4, dtype: .float64, using: &rng)
        let x = Tensor.randomNormal([2, 8, 3, 3], dtype: .float64, using: &rng), time = Tensor.randomNormal([2, 4], dtype: .float64, using: &rng)
        x.requiresGrad = true
        time.requiresGrad = true
        let report = gradientCheck(inPlace: [x, time] + block.parameters) { block(x, time: time) }
        #expect(report.passed, "\(report)")
    }
}

/// Every model lists all it stores: no tensor is left off a parameter list and no sub-module off
/// `children` (checked with `Mirror`, as `ModuleTests` checks the layers).
@Suite struct ModelStructureTests {
    @Test func everyModelListsEveryStoredMember() {
        var rng = RandomGenerator(seed: 0)
        let models: [Module] = [
            DCGANGenerator(latentCount: 4, widths: [8, 8, 8], imageChannels: 1, classCount: 10, using: &rng),
            DCGANDiscriminator(widths: [8, 8, 8], imageChannels: 1, classCount: 10, using: &rng),
            DCGANDiscriminator(widths: [8, 8, 8], imageChannels: 1, batchNorm: false, using: &rng),
            VariationalAutoencoder(imageChannels: 1, latentCount: 4, classCount: 10, using: &rng),
            TinyUNet(width: 8, using: &rng), TinyUNet(width: 8, classCount: 10, using: &rng),
            FlowUNet(width: 8, classCount: 10, using: &rng),
            VelocityMLP(dimension: 2, width: 8, using: &rng), VelocityMLP(dimension: 4, width: 8, classCount: 3, using: &rng),
        ]
        for model in models { expectEveryStoredMemberListed(model) }
    }
}
