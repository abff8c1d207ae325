import Foundation
import Testing
import TestSupport
import NeuralNetworks

@Suite struct LossTests {
    @Test func knownValues() {
        let logits = Tensor([0, 2, -3], shape: [3], dtype: .float64)
        let targets = Tensor([1, 0, 1], shape: [3], dtype: .float64)
        // BCE of logit 0 is log 2; of logit 2 against 0 is 2 + log(1 + e⁻²); of −3 against 1 is log(1 + e³).
        expectClose(binaryCrossEntropyWithLogits(logits, targets, reduction: .none).doubles,
                    [log(2), 2 + log(1 + exp(-2)), log(1 + exp(3))], tolerance: 1e-12)
        // Stable at extreme logits, where sigmoid then log would give inf.
        expectClose(binaryCrossEntropyWithLogits(Tensor([-1000, 1000], shape: [2], dtype: .float64),
                                                 Tensor([1, 0], shape: [2], dtype: .float64), reduction: .sum).doubles, [2000])
        // The gradient with respect to the logit is σ(a) − y, at a = 0 too (PyTorch: 0.5 − y), and
        // σ(±1000) − y at the extremes: 0 and −1 for a well-classified and a hopeless logit.
        let edge = Tensor([0, 0, 1000, -1000], shape: [4], dtype: .float64)
        edge.requiresGrad = true
        let gradient = binaryCrossEntropyWithLogits(edge, Tensor([1, 0, 1, 1], shape: [4], dtype: .float64), reduction: .sum)
            .gradients(withRespectTo: [edge])[0]
        expectClose(gradient.doubles, [-0.5, 0.5, 0, -1], tolerance: 1e-15)
        // On probabilities: the same numbers, and log(0) clamped at −100 as PyTorch does.
        expectClose(binaryCrossEntropy(logits.sigmoid(), targets, reduction: .none).doubles,
                    [log(2), 2 + log(1 + exp(-2)), log(1 + exp(3))], tolerance: 1e-9)
        expectClose(binaryCrossEntropy(Tensor([0, 1], shape: [2], dtype: .float64), Tensor([1, 0], shape: [2], dtype: .float64)).doubles, [100])
        // Its gradient at p = 0 and 1 is PyTorch's (p − y) / max(p(1 − p), 1e−12): finite, not NaN;
        // inside (0, 1) it is the derivative of the loss, −y/p + (1 − y)/(1 − p).
        let p = Tensor([0, 1, 0, 1, 0.25], shape: [5], dtype: .float64), y = Tensor([1, 0, 0, 1, 1], shape: [5], dtype: .float64)
        p.requiresGrad = true
        y.requiresGrad = true
        let grads = binaryCrossEntropy(p, y, reduction: .sum).gradients(withRespectTo: [p, y])
        expectClose(grads[0].doubles, [-1e12, 1e12, 0, 0, -4], tolerance: 1e-9)
        // With respect to the target: log(1 − p) − log p, each log clamped at −100.
        expectClose(grads[1].doubles, [100, -100, 100, -100, log(0.75) - log(0.25)], tolerance: 1e-12)
        let a = Tensor([1, 2, 3], shape: [3], dtype: .float64), b = Tensor([2, 2, 5], shape: [3], dtype: .float64)
        expectClose(mseLoss(a, b).doubles, [5.0 / 3])
        expectClose(mseLoss(a, b, reduction: .sum).doubles, [5])
        expectClose(l1Loss(a, b).doubles, [1])
        // Cross-entropy of logits [1, 2, 3] with label 2 is −log softmax₂ = log(e + e² + e³) − 3.
        expectClose(crossEntropy(Tensor([1, 2, 3, 1, 2, 3], shape: [2, 3], dtype: .float64), labels: [2, 0], reduction: .none).doubles,
                    [log(exp(1) + exp(2) + exp(3)) - 3, log(exp(1) + exp(2) + exp(3)) - 1], tolerance: 1e-12)
        // Soft targets: −Σ t_c log softmax_c; one-hot targets are the labels; label smoothing ε = 0.3
        // with three classes makes the target of label 2 (0.1, 0.1, 0.8).
        let row = Tensor([1, 2, 3], shape: [1, 3], dtype: .float64)
        let logSoftmax = [1.0, 2, 3].map { $0 - log(exp(1) + exp(2) + exp(3)) }
        expectClose(crossEntropy(row, targets: Tensor([0.2, 0.3, 0.5], shape: [1, 3], dtype: .float64)).doubles,
                    [-(0.2 * logSoftmax[0] + 0.3 * logSoftmax[1] + 0.5 * logSoftmax[2])], tolerance: 1e-12)
        expectClose(crossEntropy(row, targets: Tensor([0, 0, 1], shape: [1, 3], dtype: .float64)).doubles,
                    crossEntropy(row, labels: [2]).doubles, tolerance: 1e-15)
        expectClose(crossEntropy(row, labels: [2], labelSmoothing: 0.3).doubles,
                    [-(0.1 * logSoftmax[0] + 0.1 * logSoftmax[1] + 0.8 * logSoftmax[2])], tolerance: 1e-12)
        // KL(N(μ, σ²) ‖ N(0, 1)) = ½(μ² + σ² − 1 − log σ²) per dimension, summed over the latent axis.
        let mean = Tensor([0, 1, 0, 0], shape: [2, 2], dtype: .float64)
        let logVariance = Tensor([0, 0, log(2), 0], shape: [2, 2], dtype: .float64)
        expectClose(gaussianKLDivergence(mean: mean, logVariance: logVariance, reduction: .none).doubles,
                    [0.5, 0.5 * (2 - 1 - log(2))], tolerance: 1e-12)
        expectClose(gaussianKLDivergence(mean: mean, logVariance: logVariance).doubles, [(0.5 + 0.5 * (1 - log(2))) / 2], tolerance: 1e-12)
    }

    @Test func gradients() {
        let x = randomDouble([3, 4], seed: 1), y = randomDouble([3, 4], seed: 2)
        let probabilities = randomDouble([3, 4], seed: 3).sigmoid()
        let binaryTargets = randomDouble([3, 4], seed: 4).sigmoid()
        let checks: [(String, [Tensor], ([Tensor]) -> Tensor)] = [
            ("mse", [x, y], { mseLoss($0[0], $0[1]) }),
            ("l1", [x, y], { l1Loss($0[0], $0[1], reduction: .sum) }),
            ("bce", [probabilities, binaryTargets], { binaryCrossEntropy($0[0], $0[1]) }),
            ("bce with logits", [x, binaryTargets], { binaryCrossEntropyWithLogits($0[0], $0[1]) }),
            ("cross-entropy", [x], { crossEntropy($0[0], labels: [3, 0, 1]) }),
            ("cross-entropy, smoothed labels", [x], { crossEntropy($0[0], labels: [3, 0, 1], labelSmoothing: 0.1) }),
            ("cross-entropy, soft targets", [x, withoutGradients { y.softmax(alongAxis: 1) }], { crossEntropy($0[0], targets: $0[1], reduction: .sum) }),
            ("gaussian KL", [x, y], { gaussianKLDivergence(mean: $0[0], logVariance: $0[1], reduction: .none) }),
        ]
        for (name, inputs, loss) in checks {
            let report = gradientCheck(inputs, loss)
            #expect(report.passed, "\(name): \(report)")
        }
    }
}

@Suite struct OptimizerTests {
    private func parameter(_ values: [Double]) -> Tensor {
        Tensor(values, shape: [values.count], dtype: .float64, requiresGrad: true)
    }

    @Test func sgdWithMomentumAndWeightDecay() {
        let p = parameter([1, -2])
        let sgd = SGD([p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        p.grad = Tensor([0.5, 0.5], shape: [2], dtype: .float64)
        sgd.step()
        // g = 0.5 + 0.01·p; b = g; p −= 0.1·b
        let g1 = [0.5 + 0.01, 0.5 - 0.02]
        let p1 = [1 - 0.1 * g1[0], -2 - 0.1 * g1[1]]
        expectClose(p.doubles, p1, tolerance: 1e-15)
        sgd.step()
        let g2 = [0.5 + 0.01 * p1[0], 0.5 + 0.01 * p1[1]]
        let b2 = [0.9 * g1[0] + g2[0], 0.9 * g1[1] + g2[1]]
        expectClose(p.doubles, [p1[0] - 0.1 * b2[0], p1[1] - 0.1 * b2[1]], tolerance: 1e-15)
    }

    @Test func adamTwoStepsByHand() {
        let p = parameter([1])
        let adam = Adam([p], learningRate: 0.01, betas: (0.5, 0.999), epsilon: 1e-8)
        p.grad = Tensor([2], shape: [1], dtype: .float64)
        adam.step()
        // First step: m̂ = g, v̂ = g², so the move is lr·g/(|g| + ε) ≈ lr.
        expectClose(p.doubles, [1 - 0.01 * 2 / (2 + 1e-8)], tolerance: 1e-14)
        p.grad = Tensor([-1], shape: [1], dtype: .float64)
        adam.step()
        let m = 0.5 * (0.5 * 2) + 0.5 * -1, v = 0.999 * (0.001 * 4) + 0.001 * 1
        let mHat = m / (1 - 0.25), vHat = v / (1 - 0.999 * 0.999)
        expectClose(p.doubles, [1 - 0.01 * 2 / (2 + 1e-8) - 0.01 * mHat / (vHat.squareRoot() + 1e-8)], tolerance: 1e-12)
        #expect(adam.stepCount == 2)
    }

    @Test func adamFitsALinearModel() {
        var rng = RandomGenerator(seed: 3)
        let model = Linear(inputCount: 3, outputCount: 1, using: &rng)
        let trueWeight = Tensor([1.5, -2, 0.5] as [Float], shape: [3, 1])
        let adam = Adam(model.parameters, learningRate: 0.05)
        var loss = 0.0
        for _ in 0..<300 {
            let x = Tensor.randomNormal([32, 3], using: &rng)
            let target = x.matmul(trueWeight) + 0.7
            let l = mseLoss(model(x), target)
            adam.zeroGrad()
            l.backward()
            adam.step()
            loss = l.item
        }
        #expect(loss < 1e-4)
        expectClose(model.weight.doubles, [1.5, -2, 0.5], tolerance: 1e-2)
        expectClose(model.bias!.doubles, [0.7], tolerance: 1e-2)
    }

    @Test func exponentialMovingAverage() {
        let p = parameter([0])
        let ema = ExponentialMovingAverage([p], decay: 0.9)
        #expect(ema.decay(atUpdate: 0) == 0.1 && ema.decay(atUpdate: 1) == 2.0 / 11 && ema.decay(atUpdate: 80) == 0.9)
        p.assign(Tensor([10], shape: [1], dtype: .float64))
        ema.update()                                                      // warm-up: 0.1 · 0 + 0.9 · 10
        expectClose(ema.shadows[0].doubles, [9])
        ema.update()                                                      // (2/11) · 9 + (9/11) · 10
        expectClose(ema.shadows[0].doubles, [18.0 / 11 + 90.0 / 11])
        for _ in 0..<200 { ema.update() }
        p.assign(Tensor([20], shape: [1], dtype: .float64))
        ema.update()                                                      // settled: 0.9 · 10 + 0.1 · 20
        expectClose(ema.shadows[0].doubles, [11])
        #expect(ema.updateCount == 203)
        let seen = ema.withAveragedWeights { p.doubles }
        expectClose(seen, [11])
        expectClose(p.doubles, [20])
    }
}
