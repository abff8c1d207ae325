/// The sizes that tie a 2-D convolution's three tensors together.
///
/// The "input side" is `[batch, inputChannels, height, width]`, the "output side"
/// `[batch, outputChannels, outputHeight, outputWidth]`, the weight `[outputChannels, inputChannels,
/// kernelHeight, kernelWidth]`. A transposed convolution uses the same geometry with the sides swapped.
public struct ConvolutionGeometry: Equatable, Sendable {
    public let batch: Int, inputChannels: Int, outputChannels: Int
    public let height: Int, width: Int
    public let kernelHeight: Int, kernelWidth: Int
    public let stride: Int, padding: Int

    public var outputHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    public var outputWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }

    /// The same geometry for `count` samples.
    func withBatch(_ count: Int) -> ConvolutionGeometry {
        ConvolutionGeometry(batch: count, inputChannels: inputChannels, outputChannels: outputChannels, height: height, width: width,
                            kernelHeight: kernelHeight, kernelWidth: kernelWidth, stride: stride, padding: padding)
    }

    var inputShape: [Int] { [batch, inputChannels, height, width] }
    var outputShape: [Int] { [batch, outputChannels, outputHeight, outputWidth] }
    var weightShape: [Int] { [outputChannels, inputChannels, kernelHeight, kernelWidth] }
    /// Rows of the unfolded (im2col) matrix: one per input channel and kernel position.
    var patchSize: Int { inputChannels * kernelHeight * kernelWidth }
    var outputPixels: Int { outputHeight * outputWidth }
}

/// The three products of a convolution. With x the input side, y the output side and W the
/// weight, all three are derivatives of one sum, Σ x[n,c,oh·s−p+i, ow·s−p+j] · W[o,c,i,j] · y[n,o,oh,ow]:
/// `forward` (→ y), `inputAdjoint` (→ x; this is the transposed convolution) and
/// `weightGradient` (→ W). Fast versions call the GEMM: for stride 1 on shifted windows of the
/// padded input (`ShiftedConvolution.swift`), for larger strides on shifted windows of the input's
/// phases where that is cheaper (`PolyphaseConvolution.swift`), else on unfolded patches (im2col);
/// `reference…` versions are the plain loops.
enum ConvolutionKernels {
    // MARK: - Unfolding

    /// The output columns `ow` whose input column `ow·s − p + j` lies inside the image.
    @inline(__always)
    private static func validColumns(_ g: ConvolutionGeometry, tap j: Int) -> Range<Int> {
        let first = max(0, (g.padding - j + g.stride - 1) / g.stride)
        let last = min(g.outputWidth, (g.width + g.padding - j + g.stride - 1) / g.stride)
        return first..<max(first, last)
    }

    /// cols[(c·kh + i)·kw + j, oh·Wo + ow] = x[c, oh·s − p + i, ow·s − p + j] (0 outside), for one sample.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func unfold<T: TensorScalar>(_ x: UnsafePointer<T>, _ g: ConvolutionGeometry,
                                        into cols: UnsafeMutablePointer<T>, rowStride: Int) {
        let outH = g.outputHeight, outW = g.outputWidth
        for c in 0..<g.inputChannels {
            let plane = x + c * g.height * g.width
            for i in 0..<g.kernelHeight {
                for j in 0..<g.kernelWidth {
                    let row = cols + ((c * g.kernelHeight + i) * g.kernelWidth + j) * rowStride
                    let valid = validColumns(g, tap: j)
                    for oh in 0..<outH {
                        let ih = oh * g.stride - g.padding + i
                        let out = row + oh * outW
                        // Plain loops rather than memset/memcpy calls: rows here are often only 4–16 long.
                        guard ih >= 0 && ih < g.height, !valid.isEmpty else {
                            for ow in 0..<outW { out[ow] = 0 }
                            continue
                        }
                        for ow in 0..<valid.lowerBound { out[ow] = 0 }
                        let source = plane + ih * g.width - g.padding + j
                        if g.stride == 1 && valid.count >= 16 {
                            (out + valid.lowerBound).update(from: source + valid.lowerBound, count: valid.count)
                        } else if g.stride == 1 {
                            for ow in valid { out[ow] = source[ow] }
                        } else {
                            for ow in valid { out[ow] = source[ow &* g.stride] }
                        }
                        for ow in valid.upperBound..<outW { out[ow] = 0 }
                    }
                }
            }
        }
    }

    /// The adjoint of `unfold`: adds every column entry back onto the pixel it came from.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func fold<T: TensorScalar>(_ cols: UnsafePointer<T>, _ g: ConvolutionGeometry, rowStride: Int,
                                      into x: UnsafeMutablePointer<T>) {
        let outH = g.outputHeight, outW = g.outputWidth
        for c in 0..<g.inputChannels {
            let plane = x + c * g.height * g.width
            for i in 0..<g.kernelHeight {
                for j in 0..<g.kernelWidth {
                    let row = cols + ((c * g.kernelHeight + i) * g.kernelWidth + j) * rowStride
                    let valid = validColumns(g, tap: j)
                    for oh in 0..<outH {
                        let ih = oh * g.stride - g.padding + i
                        guard ih >= 0 && ih < g.height else { continue }
                        let target = plane + ih * g.width - g.padding + j, source = row + oh * outW
                        if g.stride == 1 {
                            for ow in valid { target[ow] += source[ow] }
                        } else {
                            for ow in valid { target[ow &* g.stride] += source[ow] }
                        }
                    }
                }
            }
        }
    }

    // MARK: - Fast paths

    /// Whether the kernel covers the whole unpadded image (a DCGAN's first and last layers): then
    /// there is one output pixel, a sample's unfolded patch is the sample itself, and the
    /// convolution is a dense product over the flattened samples.
    static func isDense(_ g: ConvolutionGeometry) -> Bool {
        g.padding == 0 && g.kernelHeight == g.height && g.kernelWidth == g.width
    }

    /// Below this many output pixels per sample, one product over the whole batch beats one product
    /// per sample: per-sample products would be too thin to keep the GEMM's registers busy.
    static let batchedBelowPixels = 256

    /// Copies between the batch-major `[N, C, P]` layout of tensors and the channel-major `[C, N·P]`
    /// layout of a whole-batch product, one sample per task.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func transposeBatch<T: TensorScalar>(_ batchMajor: UnsafeMutablePointer<T>, _ channelMajor: UnsafeMutablePointer<T>,
                                                batch: Int, channels: Int, pixels: Int, toChannelMajor: Bool) {
        let pointers = SendableBox((batchMajor, channelMajor))
        Parallel.forEach(batch) { n in
            let (batchMajor, channelMajor) = pointers.value
            for c in 0..<channels {
                let sample = batchMajor + (n * channels + c) * pixels, column = channelMajor + c * batch * pixels + n * pixels
                if toChannelMajor { Runs.copy(sample, to: column, count: pixels) } else { Runs.copy(column, to: sample, count: pixels) }
            }
        }
    }

    /// target[j, i] = source[i, j] for a `rows × columns` source, in tiles of 16 × 16 (a tile's
    /// reads and writes each fill whole cache lines), the tiles of 16 target rows one task each.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func transpose<T: TensorScalar>(_ source: UnsafePointer<T>, rows: Int, columns: Int, into target: UnsafeMutablePointer<T>) {
        let tile = 16
        let pointers = SendableBox((source, target))
        Parallel.forEach((columns + tile - 1) / tile, elements: rows * columns) { block in
            let (source, target) = pointers.value
            let columnRange = block * tile..<min(columns, (block + 1) * tile)
            for i0 in stride(from: 0, to: rows, by: tile) {
                let rowRange = i0..<min(rows, i0 + tile)
                for j in columnRange {
                    for i in rowRange { target[j &* rows &+ i] = source[i &* columns &+ j] }
                }
            }
        }
    }

    /// y[n, c, ·] += bias[c] for `[N, C, P]` y, one sample per task: the bias of the paths that do
    /// not add it where they write y.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func addBias<T: TensorScalar>(_ bias: UnsafePointer<T>, to y: UnsafeMutablePointer<T>, batch: Int, channels: Int, pixels: Int) {
        let pointers = SendableBox((bias, y))
        Parallel.forEach(batch, elements: batch * channels * pixels) { n in
            let (bias, y) = pointers.value
            for c in 0..<channels {
                let (plane, b) = (y + (n * channels + c) * pixels, bias[c])
                for i in 0..<pixels { plane[i] += b }
            }
        }
    }

    /// y = W · unfold(x) (+ bias per output channel): per sample (one task each) when images are
    /// large, else one product over the whole batch's columns. The bias is added as y is written
    /// where the path writes it from a grid, after the product elsewhere; either way each output
    /// is the product plus the bias, rounded once more, as a separate addition would give.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func forward<T: TensorScalar>(_ x: UnsafeMutableBufferPointer<T>, _ w: UnsafeMutableBufferPointer<T>,
                                         _ y: UnsafeMutableBufferPointer<T>, _ g: ConvolutionGeometry, bias: UnsafePointer<T>? = nil) {
        if !isDense(g) {
            if usesShiftedWindows(g) {
                return shiftedForward(UnsafePointer(x.baseAddress!), UnsafePointer(w.baseAddress!), y.baseAddress!, g, bias: bias)
            }
            if let polyphase = Polyphase(g) {
                return polyphaseForward(UnsafePointer(x.baseAddress!), w.baseAddress!, y.baseAddress!, polyphase, bias: bias)
            }
        }
        productWithoutBias(x, w, y, g)
        if let bias { addBias(bias, to: y.baseAddress!, batch: g.batch, channels: g.outputChannels, pixels: g.outputPixels) }
    }

    /// `forward` for the dense and unfolding paths, which add no bias.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func productWithoutBias<T: TensorScalar>(_ x: UnsafeMutableBufferPointer<T>, _ w: UnsafeMutableBufferPointer<T>,
                                                            _ y: UnsafeMutableBufferPointer<T>, _ g: ConvolutionGeometry) {
        if isDense(g) {
            // y[N, O] = x[N, P] · W[O, P]ᵀ
            return MatrixMultiply.multiply(m: g.batch, n: g.outputChannels, k: g.patchSize,
                                           MatrixView(base: UnsafePointer(x.baseAddress!), rowStride: g.patchSize, columnStride: 1),
                                           MatrixView(base: UnsafePointer(w.baseAddress!), rowStride: 1, columnStride: g.patchSize),
                                           y.baseAddress!, ldc: g.outputChannels, accumulate: false)
        }
        let weights = MatrixView(base: UnsafePointer(w.baseAddress!), rowStride: g.patchSize, columnStride: 1)
        let sampleSize = g.inputChannels * g.height * g.width
        if g.outputPixels >= batchedBelowPixels {
            let buffers = SendableBox((x: x, y: y))
            Parallel.forEach(g.batch) { n in
                let (x, y) = buffers.value
                MemoryPool.withScratch(T.self, count: g.patchSize * g.outputPixels) { cols in
                    unfold(x.baseAddress! + n * sampleSize, g, into: cols, rowStride: g.outputPixels)
                    MatrixMultiply.multiply(m: g.outputChannels, n: g.outputPixels, k: g.patchSize,
                                            weights, MatrixView(base: cols, rowStride: g.outputPixels, columnStride: 1),
                                            y.baseAddress! + n * g.outputChannels * g.outputPixels, ldc: g.outputPixels,
                                            accumulate: false, parallel: false)
                }
            }
            return
        }
        let columns = g.batch * g.outputPixels
        MemoryPool.withScratch(T.self, count: g.patchSize * columns) { cols in
            MemoryPool.withScratch(T.self, count: g.outputChannels * columns) { product in
                let buffers = SendableBox((x: x, cols: cols))
                Parallel.forEach(g.batch) { n in
                    let (x, cols) = buffers.value
                    unfold(x.baseAddress! + n * sampleSize, g, into: cols + n * g.outputPixels, rowStride: columns)
                }
                MatrixMultiply.multiply(m: g.outputChannels, n: columns, k: g.patchSize,
                                        weights, MatrixView(base: cols, rowStride: columns, columnStride: 1),
                                        product, ldc: columns, accumulate: false)
                transposeBatch(y.baseAddress!, product, batch: g.batch, channels: g.outputChannels, pixels: g.outputPixels, toChannelMajor: false)
            }
        }
    }

    /// x = fold(Wᵀ · y) (+ bias per input channel): the transposed convolution, per sample or over
    /// the whole batch as `forward`, its bias added as `forward` adds one.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func inputAdjoint<T: TensorScalar>(_ y: UnsafeMutableBufferPointer<T>, _ w: UnsafeMutableBufferPointer<T>,
                                              _ x: UnsafeMutableBufferPointer<T>, _ g: ConvolutionGeometry, bias: UnsafePointer<T>? = nil) {
        if !isDense(g) {
            if let adjoint = adjointAsForward(g), usesShiftedWindows(adjoint) {
                return shiftedInputAdjoint(UnsafePointer(y.baseAddress!), UnsafePointer(w.baseAddress!), x.baseAddress!, g,
                                           adjoint: adjoint, bias: bias)
            }
            if let polyphase = Polyphase(g) {
                return polyphaseInputAdjoint(UnsafePointer(y.baseAddress!), w.baseAddress!, x.baseAddress!, polyphase, bias: bias)
            }
        }
        adjointWithoutBias(y, w, x, g)
        if let bias { addBias(bias, to: x.baseAddress!, batch: g.batch, channels: g.inputChannels, pixels: g.height * g.width) }
    }

    /// `inputAdjoint` for the dense and unfolding paths, which add no bias.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func adjointWithoutBias<T: TensorScalar>(_ y: UnsafeMutableBufferPointer<T>, _ w: UnsafeMutableBufferPointer<T>,
                                                            _ x: UnsafeMutableBufferPointer<T>, _ g: ConvolutionGeometry) {
        if isDense(g) {
            // x[N, P] = y[N, O] · W[O, P]
            return MatrixMultiply.multiply(m: g.batch, n: g.patchSize, k: g.outputChannels,
                                           MatrixView(base: UnsafePointer(y.baseAddress!), rowStride: g.outputChannels, columnStride: 1),
                                           MatrixView(base: UnsafePointer(w.baseAddress!), rowStride: g.patchSize, columnStride: 1),
                                           x.baseAddress!, ldc: g.patchSize, accumulate: false)
        }
        let transposedWeights = MatrixView(base: UnsafePointer(w.baseAddress!), rowStride: 1, columnStride: g.patchSize)
        let sampleSize = g.inputChannels * g.height * g.width
        x.update(repeating: 0)
        if g.outputPixels >= batchedBelowPixels {
            let buffers = SendableBox((x: x, y: y))
            Parallel.forEach(g.batch) { n in
                let (x, y) = buffers.value
                MemoryPool.withScratch(T.self, count: g.patchSize * g.outputPixels) { cols in
                    MatrixMultiply.multiply(m: g.patchSize, n: g.outputPixels, k: g.outputChannels, transposedWeights,
                                            MatrixView(base: y.baseAddress! + n * g.outputChannels * g.outputPixels,
                                                       rowStride: g.outputPixels, columnStride: 1),
                                            cols, ldc: g.outputPixels, accumulate: false, parallel: false)
                    fold(cols, g, rowStride: g.outputPixels, into: x.baseAddress! + n * sampleSize)
                }
            }
            return
        }
        let columns = g.batch * g.outputPixels
        MemoryPool.withScratch(T.self, count: g.outputChannels * columns) { gathered in
            MemoryPool.withScratch(T.self, count: g.patchSize * columns) { cols in
                transposeBatch(y.baseAddress!, gathered, batch: g.batch, channels: g.outputChannels, pixels: g.outputPixels, toChannelMajor: true)
                MatrixMultiply.multiply(m: g.patchSize, n: columns, k: g.outputChannels, transposedWeights,
                                        MatrixView(base: gathered, rowStride: columns, columnStride: 1),
                                        cols, ldc: columns, accumulate: false)
                let buffers = SendableBox((x: x, cols: cols))
                Parallel.forEach(g.batch) { n in
                    let (x, cols) = buffers.value
                    fold(cols + n * g.outputPixels, g, rowStride: columns, into: x.baseAddress! + n * sampleSize)
                }
            }
        }
    }

    /// W = Σₙ y[n] · unfold(x[n])ᵀ as products over blocks of samples' pixels, [O, block·pixels] ·
    /// [patch, block·pixels]ᵀ, accumulated into W block after block. A block's unfolded patches are
    /// kept to about 4 MB so that they are still in cache when the product reads them; the whole
    /// batch's (over 100 MB for a 64-channel 28×28 layer) went out to memory and back. The block
    /// size depends on the geometry alone, so the order of additions does not depend on threads.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func weightGradient<T: TensorScalar>(_ x: UnsafeMutableBufferPointer<T>, _ y: UnsafeMutableBufferPointer<T>,
                                                _ w: UnsafeMutableBufferPointer<T>, _ g: ConvolutionGeometry) {
        if isDense(g) {
            // W[O, P] = y[N, O]ᵀ · x[N, P]
            return MatrixMultiply.multiply(m: g.outputChannels, n: g.patchSize, k: g.batch,
                                           MatrixView(base: UnsafePointer(y.baseAddress!), rowStride: 1, columnStride: g.outputChannels),
                                           MatrixView(base: UnsafePointer(x.baseAddress!), rowStride: g.patchSize, columnStride: 1),
                                           w.baseAddress!, ldc: g.patchSize, accumulate: false)
        }
        if usesShiftedWindows(g) {
            return shiftedWeightGradient(UnsafePointer(x.baseAddress!), y.baseAddress!, w.baseAddress!, g)
        }
        if let polyphase = Polyphase(g) {
            return polyphaseWeightGradient(UnsafePointer(x.baseAddress!), y.baseAddress!, w.baseAddress!, polyphase)
        }
        let samplesPerBlock = max(1, (1 << 20) / (g.patchSize * g.outputPixels))
        let inputSampleSize = g.inputChannels * g.height * g.width, outputSampleSize = g.outputChannels * g.outputPixels
        for first in stride(from: 0, to: g.batch, by: samplesPerBlock) {
            let samples = min(samplesPerBlock, g.batch - first), columns = samples * g.outputPixels
            MemoryPool.withScratch(T.self, count: columns * g.patchSize) { rows in
                MemoryPool.withScratch(T.self, count: g.outputChannels * columns) { gathered in
                    let buffers = SendableBox((x: x, rows: rows))
                    Parallel.forEach(samples) { n in
                        let (x, rows) = buffers.value
                        unfold(x.baseAddress! + (first + n) * inputSampleSize, g, into: rows + n * g.outputPixels, rowStride: columns)
                    }
                    transposeBatch(y.baseAddress! + first * outputSampleSize, gathered, batch: samples, channels: g.outputChannels,
                                   pixels: g.outputPixels, toChannelMajor: true)
                    MatrixMultiply.multiply(m: g.outputChannels, n: g.patchSize, k: columns,
                                            MatrixView(base: gathered, rowStride: columns, columnStride: 1),
                                            MatrixView(base: rows, rowStride: 1, columnStride: columns),
                                            w.baseAddress!, ldc: g.patchSize, accumulate: first > 0)
                }
            }
        }
    }

    // MARK: - Reference loops

    /// Visits every (sample, out channel, in channel, output pixel, kernel tap) that touches a real pixel,
    /// with the flat indices of x, W and y.
    private static func forEachTap(_ g: ConvolutionGeometry, _ body: (Int, Int, Int) -> Void) {
        for n in 0..<g.batch {
            for o in 0..<g.outputChannels {
                for c in 0..<g.inputChannels {
                    for oh in 0..<g.outputHeight {
                        for ow in 0..<g.outputWidth {
                            for i in 0..<g.kernelHeight {
                                for j in 0..<g.kernelWidth {
                                    let ih = oh * g.stride - g.padding + i, iw = ow * g.stride - g.padding + j
                                    guard ih >= 0 && ih < g.height && iw >= 0 && iw < g.width else { continue }
                                    body(((n * g.inputChannels + c) * g.height + ih) * g.width + iw,
                                         ((o * g.inputChannels + c) * g.kernelHeight + i) * g.kernelWidth + j,
                                         ((n * g.outputChannels + o) * g.outputHeight + oh) * g.outputWidth + ow)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func referenceForward<T: TensorScalar>(_ x: [T], _ w: [T], _ g: ConvolutionGeometry) -> [T] {
        var y = [T](repeating: 0, count: Shape.count(g.outputShape))
        forEachTap(g) { xi, wi, yi in y[yi] += x[xi] * w[wi] }
        return y
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func referenceInputAdjoint<T: TensorScalar>(_ y: [T], _ w: [T], _ g: ConvolutionGeometry) -> [T] {
        var x = [T](repeating: 0, count: Shape.count(g.inputShape))
        forEachTap(g) { xi, wi, yi in x[xi] += y[yi] * w[wi] }
        return x
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func referenceWeightGradient<T: TensorScalar>(_ x: [T], _ y: [T], _ g: ConvolutionGeometry) -> [T] {
        var w = [T](repeating: 0, count: Shape.count(g.weightShape))
        forEachTap(g) { xi, wi, yi in w[wi] += x[xi] * y[yi] }
        return w
    }
}
