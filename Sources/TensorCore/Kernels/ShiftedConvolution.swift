/// Stride-1 convolutions without unfolding.
///
/// Pad the samples into one plane per channel with the samples innermost: pixel (r, w) of the
/// padded image holds the n samples' values side by side, at (r·Wp + w)·n + sample. The plane has
/// p zero rows, the H image rows, p zero rows; each row is led by p zeros and Wp = W + p wide, so
/// rows share their padding columns: a window that runs off a row's right edge reads the next
/// row's leading zeros. (A kernel narrower than p + 1 has more output columns than that; its rows
/// are widened to them with zeros.) Number the output positions on the same grid,
/// q = (oh·Wp + ow)·n + sample. Kernel tap (i, j) of position q then reads the plane at
/// q + (i·Wp + j)·n: row (c, i, j) of the unfolded matrix is plane c itself, read from that offset.
/// The product W · unfold(x) reads the padded planes through a table of those row offsets, and
/// nothing is unfolded.
///
/// The price is that the product runs over every grid position, including the Wp − Wo columns of
/// every grid row whose windows run off the image; their results are dropped. With the samples
/// innermost that is all: a sample's windows never run into another sample's rows. (With the
/// samples one below the other, the rows between them were dropped too: twice the waste on 16×16
/// images.) `usesShiftedWindows` takes this form only while the waste is at most a half: 28×28
/// images with 3×3 kernels compute 4 % more, 16×16 ones 6 %, 14×14 ones 7 %, 7×7 ones 14 %,
/// cheaper than writing out nine copies of the input.
extension ConvolutionKernels {
    /// Whether the shifted-window form applies to `g` and computes at most half again what is needed.
    static func usesShiftedWindows(_ g: ConvolutionGeometry) -> Bool {
        g.stride == 1 && g.outputHeight >= 1 && 2 * ShiftedLayout(g).paddedWidth <= 3 * g.outputWidth
    }

    /// The geometry of the input adjoint written as a forward convolution: for stride 1, the adjoint
    /// of a convolution with padding p ≤ k − 1 is the convolution of the output side with the weights
    /// transposed and flipped, and padding k − 1 − p. Nil unless the kernel is square, because a
    /// geometry has one padding for both directions.
    static func adjointAsForward(_ g: ConvolutionGeometry) -> ConvolutionGeometry? {
        guard g.stride == 1, g.kernelHeight == g.kernelWidth, g.padding <= g.kernelHeight - 1 else { return nil }
        return ConvolutionGeometry(batch: g.batch, inputChannels: g.outputChannels, outputChannels: g.inputChannels,
                                   height: g.outputHeight, width: g.outputWidth,
                                   kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth,
                                   stride: 1, padding: g.kernelHeight - 1 - g.padding)
    }

    /// Sizes of the padded planes and the grid of output positions.
    struct ShiftedLayout {
        let g: ConvolutionGeometry
        init(_ g: ConvolutionGeometry) { self.g = g }

        /// A row and its leading zeros, which are also the row before's trailing ones — or, for a
        /// kernel narrower than p + 1, the output row and zeros up to it.
        var paddedWidth: Int { max(g.width + g.padding, g.outputWidth) }
        var paddedHeight: Int { g.height + 2 * g.padding }
        /// Grid positions: every output row, each `paddedWidth` pixels of every sample.
        var positions: Int { g.outputHeight * paddedWidth * g.batch }
        /// The length of a grid row: the positions rounded up to whole panels of the product's
        /// columns, so that the GEMM reads every panel of windows in place and stores whole tiles
        /// (an edge panel of 22 columns in 150 cost the product an eighth of its speed).
        var columns: Int { (positions + panel - 1) / panel * panel }
        private var panel: Int { GemmPlan.current.tile.columns }
        var planeStride: Int { paddedHeight * paddedWidth * g.batch }
        /// The planes, and room for the windows of the last plane's last columns to reach into.
        var paddedCount: Int {
            (g.inputChannels - 1) * planeStride + columns + ((g.kernelHeight - 1) * paddedWidth + g.kernelWidth - 1) * g.batch
        }
        /// Where the samples' pixel (r, w) of the padded image, or their output (oh, ow), begins in
        /// a plane or a grid row; sample n's value is n further on.
        @inline(__always) func place(row r: Int, column w: Int) -> Int { (r * paddedWidth + w) * g.batch }

        /// The offset of row (c, i, j) of the unfolded matrix, for every row.
        func withRowOffsets<R>(_ body: (UnsafePointer<Int>) -> R) -> R {
            MemoryPool.withScratch(Int.self, count: g.patchSize) { offsets in
                for c in 0..<g.inputChannels {
                    for i in 0..<g.kernelHeight {
                        for j in 0..<g.kernelWidth {
                            offsets[(c * g.kernelHeight + i) * g.kernelWidth + j] = c * planeStride + place(row: i, column: j)
                        }
                    }
                }
                return body(offsets)
            }
        }
    }

    /// Zeroes what lies past the last of `layout`'s planes: windows of the last positions read it,
    /// and the weight gradient multiplies it by zeros, and 0·NaN is not 0.
    @inline(__always)
    static func zeroPastThePlanes<T: TensorScalar>(_ layout: ShiftedLayout, _ planes: UnsafeMutablePointer<T>) {
        let end = layout.g.inputChannels * layout.planeStride
        if layout.paddedCount > end { Runs.zero(planes + end, count: layout.paddedCount - end) }
    }

    /// Copies x `[N, C, H, W]` into the zero-padded planes, one channel per task. A plane is filled
    /// an image row at a time: the row's n·Wp values stay in cache while each sample's pixels,
    /// read in order, are put in their places n apart.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func pad<T: TensorScalar>(_ x: UnsafePointer<T>, _ layout: ShiftedLayout, into padded: UnsafeMutablePointer<T>) {
        let g = layout.g, (wp, p, n) = (layout.paddedWidth, g.padding, g.batch)
        zeroPastThePlanes(layout, padded)
        let pointers = SendableBox((x, padded))
        Parallel.forEach(g.inputChannels, elements: layout.paddedCount) { c in
            let (x, padded) = pointers.value
            let plane = padded + c * layout.planeStride
            Runs.zero(plane, count: p * wp * n)
            for h in 0..<g.height {
                let row = plane + layout.place(row: p + h, column: 0)
                Runs.zero(row, count: p * n)
                for sample in 0..<n {
                    let (source, target) = (x + ((sample * g.inputChannels + c) * g.height + h) * g.width, row + p * n + sample)
                    for w in 0..<g.width { target[w &* n] = source[w] }
                }
                Runs.zero(row + (p + g.width) * n, count: (wp - p - g.width) * n)
            }
            Runs.zero(plane + layout.place(row: p + g.height, column: 0), count: p * wp * n)
        }
    }

    /// Moves between `[N, O, Ho, Wo]` and the grid `[O, columns]`, one output channel per task, a
    /// grid row's samples one after another while the row is in cache. Towards the grid, the
    /// positions that are not outputs get zeros (the columns past the positions are not written);
    /// from it, each output channel o gets `bias[o]` added on the way, when given.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func regrid<T: TensorScalar>(_ outputs: UnsafeMutablePointer<T>, _ grid: UnsafeMutablePointer<T>,
                                        _ layout: ShiftedLayout, toGrid: Bool, bias: UnsafePointer<T>? = nil) {
        let g = layout.g, (ho, wo, wp, n) = (g.outputHeight, g.outputWidth, layout.paddedWidth, g.batch)
        let pointers = SendableBox((outputs, grid))
        Parallel.forEach(g.outputChannels, elements: g.outputChannels * layout.positions) { o in
            let (outputs, grid) = pointers.value
            for oh in 0..<ho {
                let row = grid + o * layout.columns + layout.place(row: oh, column: 0)
                if toGrid { Runs.zero(row + wo * n, count: (wp - wo) * n) }
                for sample in 0..<n {
                    let (pixels, places) = (outputs + ((sample * g.outputChannels + o) * ho + oh) * wo, row + sample)
                    if toGrid {
                        for ow in 0..<wo { places[ow &* n] = pixels[ow] }
                    } else if let bias {
                        let b = bias[o]
                        for ow in 0..<wo { pixels[ow] = places[ow &* n] + b }
                    } else {
                        for ow in 0..<wo { pixels[ow] = places[ow &* n] }
                    }
                }
            }
        }
    }

    /// Runs `body` on x copied into the padded planes of `g`'s shifted layout.
    @inline(__always)
    private static func withPaddedPlanes<T: TensorScalar>(of x: UnsafePointer<T>, _ g: ConvolutionGeometry,
                                                  _ body: (_ planes: UnsafePointer<T>, ShiftedLayout) -> Void) {
        let layout = ShiftedLayout(g)
        MemoryPool.withScratch(T.self, count: layout.paddedCount) { padded in
            pad(x, layout, into: padded)
            body(UnsafePointer(padded), layout)
        }
    }

    /// How many samples one chunk of `shiftedForwardInChunks` takes: few enough that the chunk's
    /// planes and product fit in half of L2, and chunks in a multiple of the threads.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func samplesPerChunk<T: TensorScalar>(_ g: ConvolutionGeometry, _: T.Type) -> Int {
        let one = ShiftedLayout(g.withBatch(1))
        let bytesPerSample = (g.inputChannels * one.planeStride + g.outputChannels * one.positions) * MemoryLayout<T>.stride
        let fitting = max(1, Processor.current.level2Bytes / 2 / bytesPerSample), threads = Parallel.threadCount
        let chunks = ((g.batch + fitting - 1) / fitting + threads - 1) / threads * threads
        return (g.batch + chunks - 1) / chunks
    }

    /// y = W · unfold(x) in chunks of samples, each chunk one task from start to end: `fill` lays out
    /// the chunk's samples in the padded planes of `layout`, the product runs on that thread, and
    /// `emit` takes its grid `[O, layout.columns]`. Planes and product stay in cache between the
    /// three steps; as three passes over the whole batch they went out to memory and back, and on
    /// small layers the copies cost a third of the time. The weights are packed for the product
    /// once, for all chunks. The product computes each output in the same order however the batch
    /// is cut, so chunks change no bits.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @inline(__always)
    static func shiftedForwardInChunks<T: TensorScalar>(
        _ g: ConvolutionGeometry, _ w: UnsafePointer<T>,
        fill: (_ samples: Range<Int>, _ layout: ShiftedLayout, _ planes: UnsafeMutablePointer<T>) -> Void,
        emit: (_ samples: Range<Int>, _ layout: ShiftedLayout, _ product: UnsafeMutablePointer<T>) -> Void) {
        let perChunk = samplesPerChunk(g, T.self)
        MatrixMultiply.withPrepared(MatrixView(base: w, rowStride: g.patchSize, columnStride: 1), m: g.outputChannels, k: g.patchSize) { weights in
            Parallel.forEach((g.batch + perChunk - 1) / perChunk) { chunk in
                let samples = chunk * perChunk..<min(g.batch, (chunk + 1) * perChunk)
                let layout = ShiftedLayout(g.withBatch(samples.count))
                MemoryPool.withScratch(T.self, count: layout.paddedCount) { planes in
                    fill(samples, layout, planes)
                    MemoryPool.withScratch(T.self, count: g.outputChannels * layout.columns) { product in
                        layout.withRowOffsets { offsets in
                            MatrixMultiply.multiply(n: layout.columns, weights,
                                                    MatrixView(base: UnsafePointer(planes), rowStride: 0, columnStride: 1, rowOffsets: offsets),
                                                    product, ldc: layout.columns, accumulate: false, parallel: false)
                        }
                        emit(samples, layout, product)
                    }
                }
            }
        }
    }

    /// y = W · unfold(x) (+ bias), reading unfold(x) as shifted windows of the padded planes.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func shiftedForward<T: TensorScalar>(_ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>,
                                                _ g: ConvolutionGeometry, bias: UnsafePointer<T>?) {
        let (inputSize, outputSize) = (g.inputChannels * g.height * g.width, g.outputChannels * g.outputPixels)
        shiftedForwardInChunks(g, w, fill: { samples, layout, planes in
            pad(x + samples.lowerBound * inputSize, layout, into: planes)
        }, emit: { samples, layout, product in
            regrid(y + samples.lowerBound * outputSize, product, layout, toGrid: false, bias: bias)
        })
    }

    /// Runs `body` on W `[O, C, kh, kw]` transposed and flipped, `[C, O, kh, kw]` with W'[c, o, i, j]
    /// = W[o, c, kh − 1 − i, kw − 1 − j]: the weights of the input adjoint as a forward convolution.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @inline(__always)
    static func withTransposedFlipped<T: TensorScalar>(_ w: UnsafePointer<T>, _ g: ConvolutionGeometry,
                                                       _ body: (UnsafePointer<T>) -> Void) {
        let taps = g.kernelHeight * g.kernelWidth
        MemoryPool.withScratch(T.self, count: g.patchSize * g.outputChannels) { flipped in
            let pointers = SendableBox((w, flipped))
            Parallel.forEach(g.inputChannels, elements: g.patchSize * g.outputChannels) { c in
                let (w, flipped) = pointers.value
                for o in 0..<g.outputChannels {
                    let (source, target) = (w + (o * g.inputChannels + c) * taps, flipped + (c * g.outputChannels + o) * taps)
                    for tap in 0..<taps { target[taps &- 1 &- tap] = source[tap] }
                }
            }
            body(UnsafePointer(flipped))
        }
    }

    /// x = the forward convolution of y with W transposed and flipped (see `adjointAsForward`).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func shiftedInputAdjoint<T: TensorScalar>(_ y: UnsafePointer<T>, _ w: UnsafePointer<T>, _ x: UnsafeMutablePointer<T>,
                                                     _ g: ConvolutionGeometry, adjoint: ConvolutionGeometry, bias: UnsafePointer<T>?) {
        withTransposedFlipped(w, g) { flipped in shiftedForward(y, flipped, x, adjoint, bias: bias) }
    }

    /// W = grid(y) · unfold(x)ᵀ: one product over every grid position of the batch, unfold(x)'s
    /// rows (c, i, j) again windows of the padded planes. Positions that are not outputs carry zeros
    /// in grid(y) and add nothing — while x is finite: their windows wrap onto real pixels, and
    /// 0·NaN is NaN.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func shiftedWeightGradient<T: TensorScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>,
                                                       _ w: UnsafeMutablePointer<T>, _ g: ConvolutionGeometry) {
        withPaddedPlanes(of: x, g) { planes, layout in shiftedWeightGradient(planes: planes, layout, y, w) }
    }

    /// W = grid(y) · unfold(x)ᵀ for x already laid out in `layout`'s padded planes, computed as its
    /// transpose unfold(x) · grid(y)ᵀ: then the windows are the product's left operand, which the
    /// GEMM reads in place, and only grid(y) is packed — not the unfolded patches.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func shiftedWeightGradient<T: TensorScalar>(planes: UnsafePointer<T>, _ layout: ShiftedLayout,
                                                       _ y: UnsafeMutablePointer<T>, _ w: UnsafeMutablePointer<T>) {
        let g = layout.g
        MemoryPool.withScratch(T.self, count: g.outputChannels * layout.columns) { grid in
            MemoryPool.withScratch(T.self, count: g.patchSize * g.outputChannels) { transposed in
                regrid(y, grid, layout, toGrid: true)
                layout.withRowOffsets { offsets in
                    MatrixMultiply.multiply(m: g.patchSize, n: g.outputChannels, k: layout.positions,
                                            MatrixView(base: planes, rowStride: 0, columnStride: 1, rowOffsets: offsets),
                                            MatrixView(base: UnsafePointer(grid), rowStride: 1, columnStride: layout.columns),
                                            transposed, ldc: g.outputChannels, accumulate: false)
                }
                transpose(transposed, rows: g.patchSize, columns: g.outputChannels, into: w)
            }
        }
    }
}
