import Foundation
import Testing
import TestSupport
@testable import TensorCore

/// The fast kernels agree with the readable reference loops, and results do not depend on threads.
@Suite struct KernelTests {
    @Test(arguments: [(1, 1, 1), (7, 33, 300), (64, 64, 64), (13, 100, 257), (97, 17, 5), (200, 300, 520)])
    func packedMatrixMultiplyMatchesTheTripleLoop(_ size: (m: Int, n: Int, k: Int)) {
        let a = randomFloat([size.m, size.k], seed: 1), b = randomFloat([size.k, size.n], seed: 2)
        let fast = a.matmul(b).floats, reference = ReferenceKernels.matmul(a, b).floats
        let scale = Float(size.k).squareRoot()
        for (x, y) in zip(fast, reference) where Swift.abs(x - y) > 1e-5 * scale * Swift.max(1, Swift.abs(y)) {
            Issue.record("matmul \(size): fast \(x), reference \(y)")
            return
        }
    }

    @Test func transposedOperandsMatch() {
        let a = randomFloat([37, 19], seed: 3), b = randomFloat([23, 19], seed: 4)
        let fast = a.matmul(b.transposed()).floats, reference = ReferenceKernels.matmul(a, b.transposed()).floats
        for (x, y) in zip(fast, reference) { #expect(Swift.abs(x - y) <= 1e-4) }
    }

    @Test(arguments: [
        (batch: 1, inputChannels: 1, outputChannels: 1, size: 4, kernel: 3, stride: 1, padding: 1),
        (batch: 3, inputChannels: 5, outputChannels: 7, size: 9, kernel: 3, stride: 2, padding: 1),
        (batch: 2, inputChannels: 3, outputChannels: 20, size: 8, kernel: 4, stride: 2, padding: 1),
        // A kernel as large as the image, unpadded: one output pixel, a dense product.
        (batch: 2, inputChannels: 16, outputChannels: 8, size: 4, kernel: 4, stride: 1, padding: 0),
        (batch: 5, inputChannels: 3, outputChannels: 7, size: 5, kernel: 5, stride: 2, padding: 0),
        // Stride 2 to 17×17 = 289 output pixels: large enough for the per-sample unfolding path.
        (batch: 2, inputChannels: 3, outputChannels: 4, size: 34, kernel: 3, stride: 2, padding: 1),
        // 4×4 kernels at stride 2 go through the input's phases (the VAE's and DCGAN's layers), as
        // does a 6×6 kernel at stride 3; an odd size whose phases would give one output too many unfolds.
        (batch: 2, inputChannels: 3, outputChannels: 5, size: 16, kernel: 4, stride: 2, padding: 1),
        (batch: 3, inputChannels: 4, outputChannels: 6, size: 32, kernel: 4, stride: 2, padding: 1),
        (batch: 2, inputChannels: 2, outputChannels: 3, size: 12, kernel: 6, stride: 3, padding: 0),
        (batch: 2, inputChannels: 2, outputChannels: 3, size: 15, kernel: 4, stride: 2, padding: 1),
        // Unpadded, so that the first pixel of a row goes to phase 0 (with padding 1, above, to
        // phase 1), and the smallest input whose phases still pay: 4×4, to 2×2.
        (batch: 2, inputChannels: 3, outputChannels: 5, size: 40, kernel: 4, stride: 2, padding: 0),
        (batch: 2, inputChannels: 2, outputChannels: 3, size: 26, kernel: 4, stride: 2, padding: 0),
        (batch: 3, inputChannels: 4, outputChannels: 5, size: 4, kernel: 4, stride: 2, padding: 1),
        // Stride 1 on images large enough for shifted windows: the usual padding, none, more than
        // the usual (the adjoint then pads by less), a 1×1 kernel, a 5×5 one, 7×7 and 4×4 images.
        (batch: 2, inputChannels: 3, outputChannels: 4, size: 17, kernel: 3, stride: 1, padding: 1),
        (batch: 3, inputChannels: 5, outputChannels: 6, size: 16, kernel: 3, stride: 1, padding: 0),
        (batch: 2, inputChannels: 4, outputChannels: 3, size: 16, kernel: 3, stride: 1, padding: 2),
        (batch: 2, inputChannels: 6, outputChannels: 5, size: 7, kernel: 1, stride: 1, padding: 0),
        (batch: 2, inputChannels: 2, outputChannels: 3, size: 28, kernel: 5, stride: 1, padding: 2),
        (batch: 4, inputChannels: 8, outputChannels: 16, size: 7, kernel: 3, stride: 1, padding: 1),
        (batch: 3, inputChannels: 4, outputChannels: 6, size: 4, kernel: 3, stride: 1, padding: 1),
        // Weights of over 65,536 elements, whose rearranging, flipping and transposing are split
        // over the threads; channel counts that leave partial tiles of 16 in the transposition.
        (batch: 1, inputChannels: 66, outputChannels: 70, size: 8, kernel: 4, stride: 2, padding: 1),
        (batch: 1, inputChannels: 90, outputChannels: 83, size: 7, kernel: 3, stride: 1, padding: 1),
    ])
    func convolutionProductsMatchTheLoops(_ c: (batch: Int, inputChannels: Int, outputChannels: Int, size: Int,
                                              kernel: Int, stride: Int, padding: Int)) {
        expectFastConvolutionProductsMatchTheLoops(input: [c.batch, c.inputChannels, c.size, c.size],
                                                   weight: [c.outputChannels, c.inputChannels, c.kernel, c.kernel],
                                                   stride: c.stride, padding: c.padding)
    }

    /// A bias is added inside the convolution, as its output is written: the bytes of adding it
    /// after, on every path (dense, unfolded per sample and over the batch, phases, shifted
    /// windows), forward and transposed.
    @Test(arguments: [
        (batch: 2, inputChannels: 16, outputChannels: 8, size: 4, kernel: 4, stride: 1, padding: 0),
        (batch: 2, inputChannels: 3, outputChannels: 4, size: 34, kernel: 3, stride: 2, padding: 1),
        (batch: 3, inputChannels: 5, outputChannels: 7, size: 9, kernel: 3, stride: 2, padding: 1),
        (batch: 3, inputChannels: 4, outputChannels: 6, size: 32, kernel: 4, stride: 2, padding: 1),
        (batch: 2, inputChannels: 2, outputChannels: 3, size: 12, kernel: 6, stride: 3, padding: 0),
        (batch: 2, inputChannels: 3, outputChannels: 4, size: 17, kernel: 3, stride: 1, padding: 1),
    ])
    func biasInsideTheConvolutionGivesTheBytesOfAddingItAfter(_ c: (batch: Int, inputChannels: Int, outputChannels: Int, size: Int,
                                                                   kernel: Int, stride: Int, padding: Int)) {
        let x = randomFloat([c.batch, c.inputChannels, c.size, c.size], seed: 35)
        let w = randomFloat([c.outputChannels, c.inputChannels, c.kernel, c.kernel], seed: 36)
        let bias = randomFloat([c.outputChannels], seed: 37), transposedBias = randomFloat([c.inputChannels], seed: 38)
        let inside = x.conv2d(weight: w, bias: bias, stride: c.stride, padding: c.padding)
        let after = x.conv2d(weight: w, stride: c.stride, padding: c.padding) + bias.reshaped([1, -1, 1, 1])
        #expect(inside.floats.map(\.bitPattern) == after.floats.map(\.bitPattern))
        let y = randomFloat(inside.shape, seed: 39)
        let transposedInside = y.convTranspose2d(weight: w, bias: transposedBias, stride: c.stride, padding: c.padding)
        let transposedAfter = y.convTranspose2d(weight: w, stride: c.stride, padding: c.padding) + transposedBias.reshaped([1, -1, 1, 1])
        #expect(transposedInside.floats.map(\.bitPattern) == transposedAfter.floats.map(\.bitPattern))
    }

    /// Non-square kernels take shifted windows forward and for the weight gradient (the input
    /// adjoint unfolds); one sample; an image narrower than the kernel.
    @Test(arguments: [
        (input: [1, 3, 12, 11], weight: [4, 3, 3, 1], padding: 1),
        (input: [2, 2, 10, 12], weight: [3, 2, 1, 3], padding: 0),
        (input: [2, 3, 12, 2], weight: [2, 3, 3, 3], padding: 2),
    ])
    func unusualConvolutionShapesMatchTheLoops(_ c: (input: [Int], weight: [Int], padding: Int)) {
        expectFastConvolutionProductsMatchTheLoops(input: c.input, weight: c.weight, stride: 1, padding: c.padding)
    }

    private func expectFastConvolutionProductsMatchTheLoops(input: [Int], weight: [Int], stride: Int, padding: Int) {
        for dtype in [DType.float32, .float64] {
            let x = randomFloat(input, seed: 5).converted(to: dtype)
            let w = randomFloat(weight, seed: 6).converted(to: dtype)
            let g = ReferenceKernels.geometry(input: x.shape, weight: w.shape, stride: stride, padding: padding)
            let y = randomFloat([g.batch, g.outputChannels, g.outputHeight, g.outputWidth], seed: 7).converted(to: dtype)
            let pairs = withoutGradients {
                [(Tensor.convolution(x, w, g), ReferenceKernels.conv2d(x, w, g)),
                 (Tensor.convolutionAdjoint(y, w, g), ReferenceKernels.convolutionInputAdjoint(y, w, g)),
                 (Tensor.convolutionWeightGradient(x, y, g), ReferenceKernels.convolutionWeightGradient(x, y, g))]
            }
            for (name, (fastResult, reference)) in zip(["forward", "input adjoint", "weight gradient"], pairs) {
                #expect(fastResult.shape == reference.shape)
                // Relative to the size of the result beyond 1: a sum of 810 float products is rounded at its own scale.
                let worst = zip(fastResult.doubles, reference.doubles).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max() ?? 0
                #expect(worst < (dtype == .float32 ? 1e-4 : 1e-12), "\(name), \(dtype), \(input) ∗ \(weight): worst difference \(worst)")
            }
        }
    }

    /// Large elementwise ops are cut into chunks for the threads, cutting broadcast rows in the
    /// middle; every element must still meet its own operands.
    @Test func chunkedElementwiseOpsMatchPlainLoops() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 3
        let a = randomFloat([5, 7, 3001], seed: 11), b = randomFloat([7, 1], seed: 12)
        let (sum, product) = ((a + b).floats, (a * b).floats)
        let (av, bv) = (a.floats, b.floats)
        var worst: Float = 0
        for i in av.indices {
            let row = (i / 3001) % 7
            worst = Swift.max(worst, Swift.abs(sum[i] - (av[i] + bv[row])), Swift.abs(product[i] - av[i] * bv[row]))
        }
        #expect(worst == 0)
        let silu = a.silu().floats
        for i in stride(from: 0, to: av.count, by: 997) {
            #expect(Swift.abs(silu[i] - av[i] / (1 + Foundation.exp(-av[i]))) <= 1e-6)
        }
    }

    /// The one-pass kernels give the bytes of the ops they fuse: x·scale + shift, and the
    /// activations' backward g·(derivative), down to the sign of a zero.
    @Test func fusedKernelsMatchTheOpsTheyReplace() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 3
        let x = randomFloat([4, 32, 24, 24], seed: 31), scale = randomFloat([1, 32, 1, 1], seed: 32), shift = randomFloat([1, 32, 1, 1], seed: 33)
        #expect(x.multipliedAdding(scale, shift).floats.map(\.bitPattern) == (x * scale + shift).floats.map(\.bitPattern))
        // A per-channel scale's gradient sums the products as it forms them: the bytes of the product, then the sum.
        let upstreamGradient = randomFloat(x.shape, seed: 40)
        let leaf = scale.detached()
        leaf.requiresGrad = true
        x.multipliedAdding(leaf, shift).backward(upstreamGradient)
        #expect(leaf.grad!.floats.map(\.bitPattern) == (upstreamGradient * x).summed(toShape: scale.shape).floats.map(\.bitPattern))
        let values: [Float] = [-2, -0.0, 0, 1e-30, -1e-30, 3, .infinity, -.infinity, .nan]
        let input = Tensor(values + values, shape: [18])
        let upstream = Tensor(values.map { _ in Float(-1.5) } + values.map { _ in Float(2) }, shape: [18])
        for (activation, derivative) in [({ (t: Tensor) in t.relu() }, { (v: Float) -> Float in v > 0 ? 1 : 0 }),
                                         ({ (t: Tensor) in t.leakyRelu(slope: 0.2) }, { (v: Float) -> Float in v > 0 ? 1 : Float(0.2) })] {
            let leaf = input.detached()
            leaf.requiresGrad = true
            activation(leaf).backward(upstream)
            let expected = zip(upstream.floats, input.floats).map { $0 * derivative($1) }
            #expect(leaf.grad!.floats.map(\.bitPattern) == expected.map(\.bitPattern))
        }
    }

    /// Sums and maxima of whole rows into single slots (per channel, over batch and pixels) share
    /// the slots out among the threads: the bytes of one thread, and the values of a plain loop.
    @Test func reductionsAreTheSameOnAnyNumberOfThreads() {
        let x = randomFloat([6, 37, 19, 23], seed: 34)
        func reductions() -> [Float] {
            x.sum(alongAxes: [0, 2, 3]).floats + x.max(alongAxes: [0, 2, 3]).floats + x.sum(alongAxes: [1]).floats
        }
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 1
        let single = reductions()
        Parallel.threadCount = 3
        #expect(reductions().map(\.bitPattern) == single.map(\.bitPattern))
        let values = x.floats, pixels = 19 * 23
        for c in [0, 17, 36] {
            var channel: [Float] = []
            for n in 0..<6 { channel += values[(n * 37 + c) * pixels..<(n * 37 + c + 1) * pixels] }
            let total: Double = channel.reduce(0) { $0 + Double($1) }
            #expect(Swift.abs(Double(single[c]) - total) <= 1e-3)
            #expect(single[37 + c] == channel.max()!)
        }
    }

    /// Same seed, same numbers; and one thread or several give the same bytes.
    @Test func resultsAreReproducibleAcrossRunsAndThreadCounts() {
        var g1 = RandomGenerator(seed: 42), g2 = RandomGenerator(seed: 42)
        #expect(Tensor.randomNormal([100], using: &g1).floats == Tensor.randomNormal([100], using: &g2).floats)
        #expect(Tensor.randomUniform([10], using: &g1).floats != Tensor.randomUniform([10], using: &g1).floats)

        func workload() -> [Float] {
            let x = randomFloat([8, 16, 12, 12], seed: 8), w = randomFloat([32, 16, 3, 3], seed: 9)
            x.requiresGrad = true
            w.requiresGrad = true
            let y = x.conv2d(weight: w, stride: 1, padding: 1).relu()
            // A strided 4×4 layer after it: the phases' products, in chunks of samples per thread.
            let strided = randomFloat([8, 32, 4, 4], seed: 13)
            strided.requiresGrad = true
            let z = y.conv2d(weight: strided, stride: 2, padding: 1).reshaped([8, -1]).matmul(randomFloat([288, 40], seed: 10)).sum()
            z.backward()
            // Large enough for the threaded elementwise and normalisation kernels.
            let h = randomFloat([4, 32, 24, 24], seed: 11)
            h.requiresGrad = true
            let scale = randomFloat([1, 32, 1, 1], seed: 12)
            let u = (h.groupNormalized(groupCount: 8) * scale + scale).silu()
            (u * u).mean().backward()
            return y.floats + [z.floats[0]] + x.grad!.floats + w.grad!.floats + strided.grad!.floats + u.floats + h.grad!.floats
        }
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 1
        let single = workload()
        Parallel.threadCount = 2
        let double = workload()
        Parallel.threadCount = 3
        let triple = workload()
        #expect(single == double && double == triple)
    }

    @Test func generatorHasTheExpectedDistribution() {
        var generator = RandomGenerator(seed: 7)
        let samples = Tensor.randomNormal([20000], dtype: .float64, using: &generator)
        #expect(Swift.abs(samples.mean().item) < 0.03)
        #expect(Swift.abs(samples.variance().item - 1) < 0.05)
        let uniform = Tensor.randomUniform([20000], low: -1, high: 3, dtype: .float64, using: &generator)
        #expect(Swift.abs(uniform.mean().item - 1) < 0.05 && uniform.max().item < 3)
        var counts = [Int](repeating: 0, count: 5)
        for _ in 0..<5000 { counts[generator.nextInt(below: 5)] += 1 }
        #expect(counts.allSatisfy { $0 > 900 && $0 < 1100 })
        #expect(generator.permutation(10).sorted() == Array(0..<10))
    }
}
