import Testing
import NeuralNetworks
import TestSupport

func expectLayerGradients(_ layer: some Layer, input: Tensor, sourceLocation: SourceLocation = #_sourceLocation) {
    let report = gradientCheck(layer, input: input)
    #expect(report.passed && report.comparisons > 0, "\(report)", sourceLocation: sourceLocation)
}

/// Every layer's input and parameter gradients against central differences, in float64.
@Suite struct LayerGradientTests {
    @Test func linear() {
        var rng = RandomGenerator(seed: 1)
        expectLayerGradients(Linear(inputCount: 5, outputCount: 3, dtype: .float64, using: &rng), input: randomDouble([4, 5], seed: 2))
        expectLayerGradients(Linear(inputCount: 3, outputCount: 2, bias: false, dtype: .float64, using: &rng), input: randomDouble([2, 1, 3], seed: 3))
    }

    @Test func convolutions() {
        var rng = RandomGenerator(seed: 4)
        expectLayerGradients(Conv2d(inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 2, padding: 1, dtype: .float64, using: &rng),
                             input: randomDouble([2, 2, 5, 5], seed: 5))
        expectLayerGradients(Conv2d(inputChannels: 1, outputChannels: 2, kernelSize: 4, stride: 1, padding: 0, bias: false, dtype: .float64, using: &rng),
                             input: randomDouble([1, 1, 4, 4], seed: 6))
        expectLayerGradients(ConvTranspose2d(inputChannels: 3, outputChannels: 2, kernelSize: 4, stride: 2, padding: 1, dtype: .float64, using: &rng),
                             input: randomDouble([2, 3, 3, 3], seed: 7))
        expectLayerGradients(ConvTranspose2d(inputChannels: 2, outputChannels: 1, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1,
                                             bias: false, dtype: .float64, using: &rng),
                             input: randomDouble([1, 2, 3, 3], seed: 8))
    }

    @Test func normalizations() {
        let batchNorm = BatchNorm2d(featureCount: 3, dtype: .float64)
        batchNorm.weight.assign(randomDouble([3], seed: 9, scale: 0.5, shift: 1))
        batchNorm.bias.assign(randomDouble([3], seed: 10))
        expectLayerGradients(batchNorm, input: randomDouble([2, 3, 3, 2], seed: 11))
        batchNorm.eval()
        expectLayerGradients(batchNorm, input: randomDouble([1, 3, 2, 2], seed: 12))
        let groupNorm = GroupNorm(groupCount: 2, channelCount: 4, dtype: .float64)
        groupNorm.weight.assign(randomDouble([4], seed: 13, scale: 0.5, shift: 1))
        expectLayerGradients(groupNorm, input: randomDouble([1, 4, 3, 3], seed: 14))
        let layerNorm = LayerNorm(normalizedShape: [5], dtype: .float64)
        layerNorm.bias.assign(randomDouble([5], seed: 15))
        expectLayerGradients(layerNorm, input: randomDouble([3, 5], seed: 16))
    }

    @Test func parameterFreeLayers() {
        let x = randomDouble([2, 3, 2, 2], seed: 17, scale: 2)
        for layer in [ReLU(), LeakyReLU(negativeSlope: 0.2), Tanh(), Sigmoid(), SiLU(), GELU(), Flatten(), Upsample(scale: 2),
                      AvgPool2d(kernelSize: 2), AvgPool2d(kernelSize: 3, stride: 1, padding: 1)] as [any Layer] {
            let report = gradientCheck(layer, input: x)
            #expect(report.passed, "\(type(of: layer)): \(report)")
        }
    }

    @Test func dropoutWithAFixedMask() {
        // A fresh layer with the same seed draws the same mask on every evaluation.
        let x = randomDouble([4, 5], seed: 18)
        let leaf = x.copy()
        leaf.requiresGrad = true
        let report = gradientCheck(inPlace: [leaf]) { Dropout(probability: 0.3, seed: 5)(leaf) }
        #expect(report.passed, "\(report)")
        let dropout = Dropout(probability: 0.5, seed: 1)
        let output = dropout(Tensor.ones([1000], dtype: .float64))
        let kept = output.doubles.filter { $0 != 0 }
        #expect(kept.allSatisfy { $0 == 2 } && kept.count > 420 && kept.count < 580)
        dropout.eval()
        #expect(dropout(x).doubles == x.doubles)
    }

    @Test func embeddingAndSequential() {
        var rng = RandomGenerator(seed: 19)
        let embedding = Embedding(count: 4, dimension: 3, dtype: .float64, using: &rng)
        let report = gradientCheck(inPlace: embedding.parameters) { embedding([2, 0, 2]) * 1.5 }
        #expect(report.passed, "\(report)")
        let model = Sequential([
            Conv2d(inputChannels: 1, outputChannels: 2, kernelSize: 3, stride: 2, padding: 1, dtype: .float64, using: &rng),
            BatchNorm2d(featureCount: 2, dtype: .float64), LeakyReLU(negativeSlope: 0.2), Flatten(),
            Linear(inputCount: 8, outputCount: 1, dtype: .float64, using: &rng),
        ])
        expectLayerGradients(model, input: randomDouble([3, 1, 4, 4], seed: 20))
    }
}

/// Forward values worked out by hand.
@Suite struct LayerForwardTests {
    @Test func batchNormOnATinyBatch() {
        let norm = BatchNorm2d(featureCount: 1, dtype: .float64)
        let x = Tensor([1, 2, 3, 4], shape: [2, 1, 1, 2], dtype: .float64)
        // mean 2.5, biased variance 1.25: (x − 2.5)/√(1.25 + 1e-5).
        let s = (1.25 + 1e-5).squareRoot()
        expectClose(norm(x).doubles, [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s], tolerance: 1e-12)
        // Running statistics move 10 % toward the batch's, with the unbiased variance 5/3.
        expectClose(norm.runningMean.doubles, [0.25])
        expectClose(norm.runningVariance.doubles, [0.9 + 0.1 * 5 / 3])
        expectClose(norm.batchesTracked.doubles, [1])
        norm.eval()
        expectClose(norm(x).doubles, [1, 2, 3, 4].map { ($0 - 0.25) / (0.9 + 0.5 / 3 + 1e-5).squareRoot() }, tolerance: 1e-12)
    }

    @Test func groupAndLayerNorm() {
        let groupNorm = GroupNorm(groupCount: 1, channelCount: 2, dtype: .float64)
        let x = Tensor([1, 3, 5, 7], shape: [1, 2, 2, 1], dtype: .float64)
        let s = (5 + 1e-5).squareRoot()       // variance of 1, 3, 5, 7 is 5
        expectClose(groupNorm(x).doubles, [-3 / s, -1 / s, 1 / s, 3 / s], tolerance: 1e-12)
        let layerNorm = LayerNorm(normalizedShape: [2], dtype: .float64)
        expectClose(layerNorm(Tensor([0, 2, 10, 10], shape: [2, 2], dtype: .float64)).doubles,
                    [-1 / (1 + 1e-5).squareRoot(), 1 / (1 + 1e-5).squareRoot(), 0, 0], tolerance: 1e-12)
    }

    @Test func linearAndConvolutionLayers() {
        var rng = RandomGenerator(seed: 0)
        let linear = Linear(inputCount: 2, outputCount: 1, dtype: .float64, using: &rng)
        linear.weight.assign(Tensor([2, -1], shape: [1, 2], dtype: .float64))
        linear.bias!.assign(Tensor([0.5], shape: [1], dtype: .float64))
        expectClose(linear(Tensor([3, 4, 1, 1], shape: [2, 2], dtype: .float64)).doubles, [2.5, 1.5])
        let generator = ConvTranspose2d(inputChannels: 100, outputChannels: 8, kernelSize: 4, stride: 1, padding: 0, bias: false, using: &rng)
        #expect(generator(Tensor.zeros([2, 100, 1, 1])).shape == [2, 8, 4, 4])
        let up = ConvTranspose2d(inputChannels: 8, outputChannels: 4, kernelSize: 4, stride: 2, padding: 1, using: &rng)
        #expect(up(Tensor.zeros([1, 8, 4, 4])).shape == [1, 4, 8, 8])
        let down = Conv2d(inputChannels: 4, outputChannels: 8, kernelSize: 4, stride: 2, padding: 1, using: &rng)
        #expect(down(Tensor.zeros([1, 4, 8, 8])).shape == [1, 8, 4, 4])
    }

    /// The parameter counts of benchmarks.md: a 64→128 3×3 convolution has 73,856.
    @Test func parameterCounts() {
        var rng = RandomGenerator(seed: 0)
        #expect(Conv2d(inputChannels: 64, outputChannels: 128, kernelSize: 3, padding: 1, using: &rng).parameterCount == 73_856)
        #expect(Linear(inputCount: 2048, outputCount: 32, using: &rng).parameterCount == 65_568)
    }
}
