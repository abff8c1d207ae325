import Testing
import TestSupport
import TensorCore

/// Every differentiable op against central differences in float64, on small shapes that hit the
/// edges: odd sizes, broadcasting over several axes, stride 2, padding, batch of 1.
@Suite struct GradientCheckTests {
    @Test func broadcastingArithmetic() {
        let a = randomDouble([2, 3, 1], seed: 1), b = randomDouble([1, 3, 4], seed: 2)
        expectGradients([a, b]) { $0[0] + $0[1] }
        expectGradients([a, b]) { $0[0] - $0[1] }
        expectGradients([a, b]) { $0[0] * $0[1] }
        let positive = randomDouble([4], seed: 3, scale: 0.3, shift: 2)
        expectGradients([a, positive]) { $0[0] / $0[1] }
        expectGradients([a]) { -$0[0] * 3 + 2 }
        expectGradients([positive]) { 1 / $0[0] - 1 }
    }

    @Test func fusedMultiplyAdd() {
        // Per-channel scale and shift as a normalisation applies them, and a broadcast over several axes.
        let x = randomDouble([2, 3, 4], seed: 42), scale = randomDouble([1, 3, 1], seed: 43), shift = randomDouble([1, 3, 1], seed: 44)
        expectGradients([x, scale, shift]) { $0[0].multipliedAdding($0[1], $0[2]) }
        expectGradients([randomDouble([3, 1], seed: 45), randomDouble([1, 5], seed: 46), randomDouble([1, 5], seed: 47)]) {
            $0[0].multipliedAdding($0[1], $0[2])
        }
        expectSecondOrderGradients([x, scale, shift]) { $0[0].multipliedAdding($0[1], $0[2]) * $0[0] }
    }

    @Test func elementwiseFunctions() {
        let x = randomDouble([3, 5], seed: 4)
        let positive = randomDouble([3, 5], seed: 5, scale: 0.3, shift: 2)
        expectGradients([x]) { $0[0].exp() }
        expectGradients([positive]) { $0[0].log() }
        expectGradients([positive]) { $0[0].log1p() }
        expectGradients([positive]) { $0[0].sqrt() }
        expectGradients([positive]) { $0[0].pow(2.5) }
        expectGradients([x]) { $0[0].pow(2) }
        expectGradients([x]) { $0[0].abs() }
        expectGradients([x]) { $0[0].clamped(min: -0.5, max: 0.7) }
        expectGradients([x]) { $0[0].erf() }
        expectGradients([x]) { $0[0].converted(to: .float64) }
    }

    @Test func activations() {
        let x = randomDouble([2, 7], seed: 6, scale: 2)
        expectGradients([x]) { $0[0].relu() }
        expectGradients([x]) { $0[0].leakyRelu(slope: 0.2) }
        expectGradients([x]) { $0[0].tanh() }
        expectGradients([x]) { $0[0].sigmoid() }
        expectGradients([x]) { $0[0].silu() }
        expectGradients([x]) { $0[0].gelu() }
        expectGradients([x]) { $0[0].softplus() }
        // At x = 0, where its stable formula has kinks that cancel, softplus is smooth: σ(0) = ½.
        let kinks = Tensor([0, 0, -3, 2.5], shape: [4], dtype: .float64)
        expectGradients([kinks]) { $0[0].softplus() }
        expectSecondOrderGradients([kinks]) { $0[0].softplus() }
        expectGradients([x]) { $0[0].logSoftmax(alongAxis: 1) }
        expectGradients([x]) { $0[0].softmax(alongAxis: 0) }
    }

    @Test func groupNormalization() {
        expectGradients([randomDouble([2, 6, 3, 2], seed: 24)]) { $0[0].groupNormalized(groupCount: 3) }
        // One group per sample, no spatial axes, and an offset far from zero.
        expectGradients([randomDouble([3, 4], seed: 25, shift: 50)]) { $0[0].groupNormalized(groupCount: 1, epsilon: 1e-3) }
        // A weighted sum, so that the upstream gradient is not the same everywhere in a group.
        let weights = randomDouble([1, 4, 5], seed: 26)
        expectGradients([randomDouble([2, 4, 5], seed: 27)]) { ($0[0].groupNormalized(groupCount: 2) * weights).sum() }
    }

    @Test func batchNormalization() {
        expectGradients([randomDouble([3, 2, 3, 2], seed: 28)]) { $0[0].batchNormalized().normalized }
        // A weighted sum and an offset far from zero; one pixel per channel.
        let weights = randomDouble([4, 3, 1, 1], seed: 29)
        expectGradients([randomDouble([4, 3, 1, 1], seed: 41, shift: 50)]) { ($0[0].batchNormalized(epsilon: 1e-3).normalized * weights).sum() }
    }

    @Test func reductions() {
        let x = randomDouble([3, 4, 5], seed: 7)
        expectGradients([x]) { $0[0].sum() }
        expectGradients([x]) { $0[0].sum(alongAxes: [0, 2]) }
        expectGradients([x]) { $0[0].sum(alongAxes: [1], keepingDimensions: true) }
        expectGradients([x]) { $0[0].mean(alongAxes: [-1]) }
        expectGradients([x]) { $0[0].mean() }
        expectGradients([x]) { $0[0].max(alongAxes: [1]) }
        expectGradients([x]) { $0[0].max() }
        expectGradients([x]) { $0[0].variance(alongAxes: [0, 2], keepingDimensions: true) }
        expectGradients([x]) { $0[0].variance(unbiased: false) }
    }

    @Test func shapeOperations() {
        let x = randomDouble([2, 3, 5], seed: 8)
        expectGradients([x]) { $0[0].reshaped([5, 6]) }
        expectGradients([x]) { $0[0].permuted([2, 0, 1]) }
        expectGradients([x]) { $0[0].transposed(0, 2) }
        expectGradients([x]) { $0[0].slice(1..<4, alongAxis: 2) }
        expectGradients([x]) { Tensor.concatenate($0[0].split(sizes: [2, 1], alongAxis: 1).reversed(), alongAxis: 1) }
        expectGradients([x]) { $0[0].padded([(1, 0), (0, 2), (1, 1)], value: 0.5) }
        expectGradients([randomDouble([3, 1], seed: 9)]) { $0[0].broadcast(to: [2, 3, 4]) }
        let y = randomDouble([2, 1, 5], seed: 10)
        expectGradients([x, y]) { Tensor.concatenate([$0[0], $0[1]], alongAxis: 1) }
        expectGradients([randomDouble([4, 3], seed: 11)]) { $0[0].gatheringRows([3, 0, 3, 1]) }
    }

    @Test func matrixProducts() {
        let a = randomDouble([3, 5], seed: 12), b = randomDouble([5, 2], seed: 13)
        expectGradients([a, b]) { $0[0].matmul($0[1]) }
        let batchA = randomDouble([2, 3, 5], seed: 14), batchB = randomDouble([2, 5, 4], seed: 15)
        expectGradients([batchA, batchB]) { $0[0].matmul($0[1]) }
        expectGradients([batchA, b]) { $0[0].matmul($0[1]) }
        expectGradients([a, batchB]) { $0[0].matmul($0[1]) }
    }

    @Test(arguments: [
        (batch: 1, inputChannels: 1, outputChannels: 1, size: 5, kernel: 3, stride: 1, padding: 0),
        (batch: 2, inputChannels: 3, outputChannels: 2, size: 5, kernel: 3, stride: 2, padding: 1),
        (batch: 2, inputChannels: 2, outputChannels: 3, size: 6, kernel: 4, stride: 2, padding: 1),
        (batch: 1, inputChannels: 2, outputChannels: 2, size: 7, kernel: 1, stride: 3, padding: 0),
    ])
    func convolution(_ c: (batch: Int, inputChannels: Int, outputChannels: Int, size: Int, kernel: Int, stride: Int, padding: Int)) {
        let x = randomDouble([c.batch, c.inputChannels, c.size, c.size], seed: 16)
        let w = randomDouble([c.outputChannels, c.inputChannels, c.kernel, c.kernel], seed: 17)
        let bias = randomDouble([c.outputChannels], seed: 18)
        expectGradients([x, w, bias]) { $0[0].conv2d(weight: $0[1], bias: $0[2], stride: c.stride, padding: c.padding) }
    }

    @Test(arguments: [
        (batch: 1, inputChannels: 2, outputChannels: 1, size: 3, kernel: 4, stride: 2, padding: 1, outputPadding: 0),
        (batch: 2, inputChannels: 3, outputChannels: 2, size: 3, kernel: 3, stride: 2, padding: 1, outputPadding: 1),
        (batch: 2, inputChannels: 1, outputChannels: 3, size: 1, kernel: 4, stride: 1, padding: 0, outputPadding: 0),
    ])
    func transposedConvolution(_ c: (batch: Int, inputChannels: Int, outputChannels: Int, size: Int, kernel: Int,
                                     stride: Int, padding: Int, outputPadding: Int)) {
        let x = randomDouble([c.batch, c.inputChannels, c.size, c.size], seed: 19)
        let w = randomDouble([c.inputChannels, c.outputChannels, c.kernel, c.kernel], seed: 20)
        let bias = randomDouble([c.outputChannels], seed: 21)
        expectGradients([x, w, bias]) {
            $0[0].convTranspose2d(weight: $0[1], bias: $0[2], stride: c.stride, padding: c.padding, outputPadding: c.outputPadding)
        }
    }

    @Test func poolingAndUpsampling() {
        let x = randomDouble([2, 2, 5, 5], seed: 22)
        expectGradients([x]) { $0[0].avgPool2d(kernel: 2) }
        expectGradients([x]) { $0[0].avgPool2d(kernel: 3, stride: 2, padding: 1) }
        // Windows that tile the plane exactly take their own loop.
        expectGradients([randomDouble([2, 2, 4, 6], seed: 44)]) { $0[0].avgPool2d(kernel: 2) }
        expectGradients([randomDouble([1, 3, 6, 9], seed: 45)]) { $0[0].avgPool2d(kernel: 3) }
        expectGradients([randomDouble([1, 2, 3, 2], seed: 23)]) { $0[0].upsampledNearest(scale: 2) }
    }
}

/// Gradients of gradients (PyTorch's create_graph), for the ops the WGAN-GP penalty uses.
@Suite struct SecondOrderGradientTests {
    @Test func linearLayerAndActivations() {
        let x = randomDouble([3, 4], seed: 30), w = randomDouble([2, 4], seed: 31), b = randomDouble([2], seed: 32)
        expectSecondOrderGradients([x, w, b]) { $0[0].matmul($0[1].transposed()) + $0[2] }
        expectSecondOrderGradients([x, w]) { $0[0].matmul($0[1].transposed()).leakyRelu(slope: 0.2) * $0[0].sum(alongAxes: [1], keepingDimensions: true) }
        expectSecondOrderGradients([x]) { $0[0].tanh() }
        expectSecondOrderGradients([x]) { $0[0].sigmoid() }
        expectSecondOrderGradients([x]) { $0[0].silu() }
    }

    @Test func groupNormalization() {
        let x = randomDouble([2, 4, 3], seed: 39), weights = randomDouble([1, 4, 3], seed: 40)
        expectSecondOrderGradients([x]) { $0[0].groupNormalized(groupCount: 2) * weights }
    }

    @Test func batchNormalization() {
        let x = randomDouble([3, 2, 2, 2], seed: 42), weights = randomDouble([1, 2, 2, 2], seed: 43)
        expectSecondOrderGradients([x]) { $0[0].batchNormalized().normalized * weights }
    }

    @Test func elementwiseAndReductions() {
        let a = randomDouble([2, 3], seed: 33), b = randomDouble([3], seed: 34, scale: 0.2, shift: 1.5)
        expectSecondOrderGradients([a, b]) { ($0[0] * $0[1] - $0[0] / $0[1] + $0[0] * $0[0]).sum(alongAxes: [1]) }
        expectSecondOrderGradients([b]) { $0[0].sqrt() * $0[0] }
        expectSecondOrderGradients([a]) { ($0[0] * $0[0]).mean() * $0[0] }
        expectSecondOrderGradients([b]) { $0[0].exp().log() * $0[0].pow(3) }
    }

    @Test func convolutions() {
        let x = randomDouble([2, 2, 5, 5], seed: 35), w = randomDouble([3, 2, 3, 3], seed: 36)
        expectSecondOrderGradients([x, w]) { $0[0].conv2d(weight: $0[1], stride: 2, padding: 1).leakyRelu(slope: 0.2) * $0[0].mean() }
        let y = randomDouble([1, 3, 2, 2], seed: 37), wt = randomDouble([3, 2, 4, 4], seed: 38)
        expectSecondOrderGradients([y, wt]) { ($0[0].convTranspose2d(weight: $0[1], stride: 2, padding: 1) * $0[0].sum()) }
    }

    /// The WGAN-GP penalty (‖∇ₓ D(x)‖ − 1)² as a function of the critic's weights: its gradient
    /// exists only through a recorded backward pass.
    @Test func gradientPenalty() {
        let x = randomDouble([2, 1, 4, 4], seed: 39)
        let w1 = randomDouble([2, 1, 3, 3], seed: 40), w2 = randomDouble([1, 8], seed: 41)
        expectGradients([w1, w2]) { weights in
            // The numeric pass runs without recording; the penalty still needs its own backward.
            let createGraph = GradMode.isEnabled
            return GradMode.$isEnabled.withValue(true) {
                let input = x.copy()
                input.requiresGrad = true
                let features = input.conv2d(weight: weights[0], stride: 2, padding: 1).leakyRelu(slope: 0.2)   // [2, 2, 2, 2]
                let score = features.reshaped([2, 8]).matmul(weights[1].transposed()).sum()
                let gradient = score.gradients(withRespectTo: [input], createGraph: createGraph)[0]            // [2, 1, 4, 4]
                let norms = ((gradient * gradient).sum(alongAxes: [1, 2, 3]) + 1e-12).sqrt()
                return ((norms - 1) * (norms - 1)).mean()
            }
        }
    }
}
