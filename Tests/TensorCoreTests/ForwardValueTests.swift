import Testing
import TestSupport
import TensorCore

/// Forward results checked against values worked out by hand.
@Suite struct ForwardValueTests {
    @Test func broadcastingArithmetic() {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], dtype: .float64)
        let b = Tensor([10, 20, 30], shape: [3], dtype: .float64)
        expectClose((a + b).doubles, [11, 22, 33, 14, 25, 36])
        expectClose((a * b).doubles, [10, 40, 90, 40, 100, 180])
        expectClose((b - a).doubles, [9, 18, 27, 6, 15, 24])
        expectClose((a / b).doubles, [0.1, 0.1, 0.1, 0.4, 0.25, 0.2])
        let column = Tensor([1, 2], shape: [2, 1, 1], dtype: .float64)
        let row = Tensor([1, 10, 100], shape: [1, 1, 3], dtype: .float64)
        let outer = column * row
        #expect(outer.shape == [2, 1, 3])
        expectClose(outer.doubles, [1, 10, 100, 2, 20, 200])
        expectClose((a * 2 + 1).doubles, [3, 5, 7, 9, 11, 13])
        expectClose((1 - a).doubles, [0, -1, -2, -3, -4, -5])
    }

    @Test func elementwiseFunctions() {
        let x = Tensor([0.25, 1, 4], shape: [3], dtype: .float64)
        expectClose(x.sqrt().doubles, [0.5, 1, 2])
        expectClose(x.log().doubles, [-1.3862943611198906, 0, 1.3862943611198906])
        expectClose(x.pow(3).doubles, [0.015625, 1, 64])
        expectClose(Tensor([-2, 0, 3], shape: [3], dtype: .float64).abs().doubles, [2, 0, 3])
        expectClose(Tensor([-2, 0.5, 3], shape: [3], dtype: .float64).clamped(min: -1, max: 1).doubles, [-1, 0.5, 1])
        expectClose(Tensor([0, 1], shape: [2], dtype: .float64).exp().doubles, [1, 2.718281828459045])
        expectClose(Tensor([0.5], shape: [1], dtype: .float64).erf().doubles, [0.5204998778130465])
        // The stable sigmoid stays finite and exact at the extremes.
        expectClose(Tensor([-1000, 0, 1000], shape: [3], dtype: .float64).sigmoid().doubles, [0, 0.5, 1])
        expectClose(Tensor([-1, 2], shape: [2], dtype: .float64).leakyRelu(slope: 0.2).doubles, [-0.2, 2])
        expectClose(Tensor([1], shape: [1], dtype: .float64).gelu().doubles, [0.8413447460685429])
        expectClose(Tensor([1], shape: [1], dtype: .float64).silu().doubles, [0.7310585786300049])
        expectClose(Tensor([-1000, -2, 0, 1000], shape: [4], dtype: .float64).silu().doubles, [0, -0.2384058440442351, 0, 1000])
        expectClose(Tensor([-800, 0, 800], shape: [3], dtype: .float64).softplus().doubles, [0, 0.6931471805599453, 800])
    }

    @Test func groupNormalization() {
        // Two samples, two groups of two channels × two pixels: group (1, 3, 5, 7) has mean 4 and variance 5.
        let x = Tensor([1, 3, 5, 7, 0, 0, 0, 0, 2, 2, 2, 2, -1, 1, -1, 1], shape: [2, 4, 2, 1], dtype: .float64)
        let s = (5 + 1e-5).squareRoot(), t = 1 / (1 + 1e-5).squareRoot()
        expectClose(x.groupNormalized(groupCount: 2).doubles,
                    [-3 / s, -1 / s, 1 / s, 3 / s, 0, 0, 0, 0, 0, 0, 0, 0, -t, t, -t, t], tolerance: 1e-12)
    }

    /// The fused kernel computes what the ops it replaced computed, in float32 too, where its
    /// statistics are summed in Double and so survive a large offset.
    @Test func groupNormalizationMatchesItsDefinitionInOps() {
        func composite(_ x: Tensor, groupCount: Int) -> Tensor {
            let grouped = x.reshaped([x.shape[0], groupCount, -1])
            let centred = grouped - grouped.mean(alongAxes: [2], keepingDimensions: true)
            let variance = (centred * centred).mean(alongAxes: [2], keepingDimensions: true)
            return (centred / (variance + 1e-5).sqrt()).reshaped(x.shape)
        }
        let x = randomDouble([3, 8, 5, 7], seed: 9, scale: 2, shift: 1)
        expectClose(x.groupNormalized(groupCount: 4).doubles, composite(x, groupCount: 4).doubles, tolerance: 1e-12)
        let offset = randomDouble([2, 4, 6, 6], seed: 10, shift: 1000)
        expectClose(offset.converted(to: .float32).groupNormalized(groupCount: 2).doubles,
                    composite(offset, groupCount: 2).doubles, tolerance: 1e-3)
    }

    @Test func batchNormalization() {
        // Two samples of two channels × two pixels: channel 0 holds (1, 3, 5, 7) — mean 4, variance 5 —
        // split across the samples; channel 1 holds (0, 0, 2, 2): mean 1, variance 1.
        let x = Tensor([1, 3, 0, 0, 5, 7, 2, 2], shape: [2, 2, 2, 1], dtype: .float64)
        let s = (5 + 1e-5).squareRoot(), t = 1 / (1 + 1e-5).squareRoot()
        let (normalized, mean, variance) = x.batchNormalized()
        expectClose(normalized.doubles, [-3 / s, -1 / s, -t, -t, 1 / s, 3 / s, t, t], tolerance: 1e-12)
        expectClose(mean.doubles, [4, 1])
        expectClose(variance.doubles, [5, 1])
    }

    /// The fused batch normalisation computes what its definition in ops computes, in float32 too,
    /// where a large offset would cancel statistics summed in Float.
    @Test func batchNormalizationMatchesItsDefinitionInOps() {
        func composite(_ x: Tensor) -> Tensor {
            let centred = x - x.mean(alongAxes: [0, 2, 3], keepingDimensions: true)
            return centred / ((centred * centred).mean(alongAxes: [0, 2, 3], keepingDimensions: true) + 1e-5).sqrt()
        }
        let x = randomDouble([3, 5, 4, 7], seed: 11, scale: 2, shift: 1)
        expectClose(x.batchNormalized().normalized.doubles, composite(x).doubles, tolerance: 1e-12)
        let offset = randomDouble([4, 3, 6, 6], seed: 12, shift: 1000)
        expectClose(offset.converted(to: .float32).batchNormalized().normalized.doubles, composite(offset).doubles, tolerance: 1e-3)
    }

    @Test func reductions() {
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], dtype: .float64)
        expectClose(x.sum().doubles, [21])
        expectClose(x.sum(alongAxes: [0]).doubles, [5, 7, 9])
        let rows = x.sum(alongAxes: [1], keepingDimensions: true)
        #expect(rows.shape == [2, 1])
        expectClose(rows.doubles, [6, 15])
        expectClose(x.mean(alongAxes: [-1]).doubles, [2, 5])
        expectClose(x.max(alongAxes: [0]).doubles, [4, 5, 6])
        expectClose(x.max().doubles, [6])
        expectClose(x.variance(alongAxes: [1]).doubles, [1, 1])
        expectClose(x.variance(unbiased: false).doubles, [35.0 / 12])
        #expect(Tensor([3, 9, 1, 0, 2, 8], shape: [2, 3], dtype: .float64).argmaxLastAxis() == [1, 2])
        let cube = Tensor.arange(0, 24, dtype: .float64).reshaped([2, 3, 4])
        expectClose(cube.sum(alongAxes: [0, 2]).doubles, [60, 92, 124])
    }

    @Test func shapeOperations() {
        let x = Tensor.arange(0, 6, dtype: .float64).reshaped([2, 3])
        expectClose(x.transposed().doubles, [0, 3, 1, 4, 2, 5])
        let cube = Tensor.arange(0, 24, dtype: .float64).reshaped([2, 3, 4])
        let permuted = cube.permuted([2, 0, 1])
        #expect(permuted.shape == [4, 2, 3])
        expectClose(Array(permuted.doubles.prefix(6)), [0, 4, 8, 12, 16, 20])
        expectClose(x.slice(1..<3, alongAxis: 1).doubles, [1, 2, 4, 5])
        let pieces = x.split(sizes: [1, 2], alongAxis: 1)
        expectClose(pieces[0].doubles, [0, 3])
        expectClose(Tensor.concatenate([x, x * 10], alongAxis: 0).doubles, [0, 1, 2, 3, 4, 5, 0, 10, 20, 30, 40, 50])
        expectClose(Tensor.concatenate([x, x * 10], alongAxis: 1).doubles, [0, 1, 2, 0, 10, 20, 3, 4, 5, 30, 40, 50])
        let padded = x.padded([(0, 1), (1, 0)], value: -1)
        #expect(padded.shape == [3, 4])
        expectClose(padded.doubles, [-1, 0, 1, 2, -1, 3, 4, 5, -1, -1, -1, -1])
        expectClose(Tensor([1, 2], shape: [2, 1], dtype: .float64).broadcast(to: [2, 3]).doubles, [1, 1, 1, 2, 2, 2])
        #expect(cube.reshaped([4, -1]).shape == [4, 6])
        #expect(cube.flattened(from: 1).shape == [2, 12])
        expectClose(Tensor.arange(1, 2, step: 0.25, dtype: .float64).doubles, [1, 1.25, 1.5, 1.75])
    }

    @Test func matrixProducts() {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], dtype: .float64)
        let b = Tensor([7, 8, 9, 10, 11, 12], shape: [3, 2], dtype: .float64)
        expectClose(a.matmul(b).doubles, [58, 64, 139, 154])
        // Batched: each batch is its own product.
        let batchA = Tensor.concatenate([a.reshaped([1, 2, 3]), (a * 2).reshaped([1, 2, 3])], alongAxis: 0)
        expectClose(batchA.matmul(b).doubles, [58, 64, 139, 154, 116, 128, 278, 308])
        let batchB = Tensor.concatenate([b.reshaped([1, 3, 2]), (b * -1).reshaped([1, 3, 2])], alongAxis: 0)
        expectClose(a.matmul(batchB).doubles, [58, 64, 139, 154, -58, -64, -139, -154])
        expectClose(batchA.matmul(batchB).doubles, [58, 64, 139, 154, -116, -128, -278, -308])
    }

    /// A 3×3 input convolved with a 2×2 kernel, worked by hand, with and without padding and stride.
    @Test func convolutionByHand() {
        let x = Tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], shape: [1, 1, 3, 3], dtype: .float64)
        let w = Tensor([1, 0, 0, -1], shape: [1, 1, 2, 2], dtype: .float64)   // x[i,j] − x[i+1,j+1]
        expectClose(x.conv2d(weight: w).doubles, [-4, -4, -4, -4])
        let bias = Tensor([0.5], shape: [1], dtype: .float64)
        expectClose(x.conv2d(weight: w, bias: bias).doubles, [-3.5, -3.5, -3.5, -3.5])
        // Padding 1, stride 2: outputs at the corners of the padded 5×5 input.
        // Each output is (top-left of its window) − (bottom-right), with zeros outside x:
        // 0 − x[0,0], 0 − x[0,2], 0 − x[2,0], x[1,1] − x[2,2].
        expectClose(x.conv2d(weight: w, stride: 2, padding: 1).doubles, [-1, -3, -7, -4])
        // A 3×3 box kernel with padding 1 sums each neighbourhood.
        let box = Tensor.ones([1, 1, 3, 3], dtype: .float64)
        expectClose(x.conv2d(weight: box, padding: 1).doubles, [12, 21, 16, 27, 45, 33, 24, 39, 28])
        // Two input channels add up; two output channels are separate.
        let x2 = Tensor.concatenate([x, x * 10], alongAxis: 1)
        let w2 = Tensor([1, 0, 0, 0, 0, 0, 0, 1, /* second output */ 0, 0, 0, 1, 1, 0, 0, 0],
                        shape: [2, 2, 2, 2], dtype: .float64)
        expectClose(x2.conv2d(weight: w2).doubles, [51, 62, 84, 95, 15, 26, 48, 59])
    }

    /// Transposed convolution scatters each input pixel's kernel into the output, by hand.
    @Test func transposedConvolutionByHand() {
        let y = Tensor([1, 2, 3, 4], shape: [1, 1, 2, 2], dtype: .float64)
        let w = Tensor([1, 10, 100, 1000], shape: [1, 1, 2, 2], dtype: .float64)
        // Stride 2: the four scaled kernels tile a 4×4 output without overlap.
        expectClose(y.convTranspose2d(weight: w, stride: 2).doubles,
                    [1, 10, 2, 20, 100, 1000, 200, 2000, 3, 30, 4, 40, 300, 3000, 400, 4000])
        // Stride 1: overlapping kernels add up in a 3×3 output.
        expectClose(y.convTranspose2d(weight: w).doubles, [1, 12, 20, 103, 1234, 2040, 300, 3400, 4000])
        // Padding crops, output padding adds a row and column at the end.
        #expect(y.convTranspose2d(weight: w, stride: 2, padding: 1).shape == [1, 1, 2, 2])
        expectClose(y.convTranspose2d(weight: w, stride: 2, padding: 1).doubles, [1000, 200, 30, 4])
        #expect(y.convTranspose2d(weight: w, stride: 2, padding: 1, outputPadding: 1).shape == [1, 1, 3, 3])
    }

    @Test func poolingAndUpsampling() {
        let x = Tensor.arange(0, 16, dtype: .float64).reshaped([1, 1, 4, 4])
        expectClose(x.avgPool2d(kernel: 2).doubles, [2.5, 4.5, 10.5, 12.5])
        // 3×3 blocks of 0…35 laid out 6 wide: block (i, j) averages to 18·i + 3·j + 7.
        expectClose(Tensor.arange(0, 36, dtype: .float64).reshaped([1, 1, 6, 6]).avgPool2d(kernel: 3).doubles, [7, 10, 25, 28])
        // Padding counts as zeros in the average (PyTorch's count_include_pad).
        expectClose(x.avgPool2d(kernel: 2, stride: 2, padding: 1).doubles, [0, 0.75, 0.75, 3, 7.5, 4.5, 3, 6.75, 3.75])
        let small = Tensor([1, 2, 3, 4], shape: [1, 1, 2, 2], dtype: .float64)
        expectClose(small.upsampledNearest(scale: 2).doubles, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        // Two planes of 1×2 at scale 3 (rows of 6, three of each), and scale 1, which copies.
        let wide = Tensor([1, 2, 5, 6], shape: [1, 2, 1, 2], dtype: .float64)
        expectClose(wide.upsampledNearest(scale: 3).doubles, [[Double]](repeating: [1, 1, 1, 2, 2, 2], count: 3).flatMap { $0 }
                        + [[Double]](repeating: [5, 5, 5, 6, 6, 6], count: 3).flatMap { $0 })
        expectClose(wide.upsampledNearest(scale: 1).doubles, [1, 2, 5, 6])
    }

    @Test func indexingAndSoftmax() {
        let table = Tensor.arange(0, 6, dtype: .float64).reshaped([3, 2])
        expectClose(table.gatheringRows([2, 0, 2]).doubles, [4, 5, 0, 1, 4, 5])
        expectClose(Tensor.oneHot([1, 0], classes: 3, dtype: .float64).doubles, [0, 1, 0, 1, 0, 0])
        let logits = Tensor([1, 2, 3], shape: [1, 3], dtype: .float64)
        expectClose(logits.softmax().doubles, [0.09003057317038046, 0.24472847105479767, 0.6652409557748219])
        // Stable for huge logits.
        expectClose(Tensor([1000, 1000], shape: [1, 2], dtype: .float64).logSoftmax().doubles, [-0.6931471805599453, -0.6931471805599453])
    }
}
