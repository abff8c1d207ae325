/// Strided convolutions as stride-1 ones, without unfolding.
///
/// Split the zero-padded input into its s² phases: phase (a, b) of channel c holds the pixels at
/// rows s·u + a and columns s·v + b, z[(c, a, b), u, v] = x_pad[c, s·u + a, s·v + b] (space to
/// depth). Tap (i, j) of output (oh, ow) reads x_pad[c, s·oh + i, s·ow + j]; with i = s·i′ + a and
/// j = s·j′ + b that is z[(c, a, b), oh + i′, ow + j′]. So the convolution with stride s and kernel
/// k is a stride-1 convolution of the phases, without padding, with kernel ⌈k/s⌉ and weights
/// W′[o, (c, a, b), i′, j′] = W[o, c, s·i′ + a, s·j′ + b] (zero where s·i′ + a ≥ k), and stride-1
/// convolutions read shifted windows (`ShiftedConvolution.swift`). The phases are one copy of the
/// input, where unfolding a 4×4 kernel at stride 2 writes four.
///
/// Its input adjoint (the transposed convolution) is the adjoint of the stride-1 one, put back from
/// phases to pixels, and its weight gradient is the stride-1 one's with the taps put back in place.
extension ConvolutionKernels {
    /// The stride-1 convolution of the phases that computes the strided convolution `g`.
    struct Polyphase {
        let g: ConvolutionGeometry
        let inner: ConvolutionGeometry

        /// Nil unless `g` has a stride above 1, the phases' convolution has exactly `g`'s outputs, and
        /// it costs at most twice `g`'s multiplications (counting zero taps and the positions shifted
        /// windows drop): 4×4 kernels at stride 2 qualify down to 8×8 inputs, 3×3 ones do not.
        init?(_ g: ConvolutionGeometry) {
            let s = g.stride
            guard s > 1 else { return nil }
            func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
            let inner = ConvolutionGeometry(batch: g.batch, inputChannels: g.inputChannels * s * s, outputChannels: g.outputChannels,
                                            height: ceilDiv(g.height + 2 * g.padding, s), width: ceilDiv(g.width + 2 * g.padding, s),
                                            kernelHeight: ceilDiv(g.kernelHeight, s), kernelWidth: ceilDiv(g.kernelWidth, s),
                                            stride: 1, padding: 0)
            guard inner.outputHeight == g.outputHeight, inner.outputWidth == g.outputWidth,
                  inner.kernelHeight == inner.kernelWidth else { return nil }
            let work = inner.patchSize * ShiftedLayout(inner).samplePositions, needed = g.patchSize * g.outputPixels
            guard work <= 2 * needed else { return nil }
            (self.g, self.inner) = (g, inner)
        }

        private init(g: ConvolutionGeometry, inner: ConvolutionGeometry) { (self.g, self.inner) = (g, inner) }

        /// The same convolution for `count` samples.
        func withBatch(_ count: Int) -> Polyphase { Polyphase(g: g.withBatch(count), inner: inner.withBatch(count)) }

        /// The phases of x `[N, C, H, W]`, written straight into the padded planes of `inner`'s
        /// shifted layout (no padding of its own: plane (c, a, b) is the samples' phases one after another).
        /// Each input row is read once and dealt out to its phases; the padding keeps the zeros that
        /// each task writes first over its sample's phases, which it then has in cache.
        func splitPhases<T: TensorScalar>(_ x: UnsafePointer<T>, into planes: UnsafeMutablePointer<T>) {
            let layout = ShiftedLayout(inner)
            let phaseStride = layout.planeStride, samplePhase = inner.height * inner.width
            let phasesEnd = inner.inputChannels * phaseStride
            (planes + phasesEnd).update(repeating: 0, count: layout.paddedCount - phasesEnd)
            let pointers = SendableBox((x, planes))
            Parallel.forEach(g.batch) { n in
                let (x, planes) = pointers.value
                for phase in 0..<inner.inputChannels { Runs.zero(planes + phase * phaseStride + n * samplePhase, count: samplePhase) }
                forEachInputRow(ofSample: n, phaseStride: phaseStride, sampleOffset: n * samplePhase) { input, phase, _ in
                    let (pixels, row) = (x + input, planes + phase)
                    if g.stride == 2 { return dealRow(pixels, to: row, phaseStride: phaseStride) }
                    forEachColumn(phaseStride: phaseStride) { w, offset in row[offset] = pixels[w] }
                }
            }
        }

        /// The adjoint of `splitPhases`: x `[N, C, H, W]` from phases `[N, C·s², Hz, Wz]` (each pixel
        /// is in exactly one phase; padding positions are dropped), plus `bias[c]` when given.
        func mergePhases<T: TensorScalar>(_ phases: UnsafePointer<T>, into x: UnsafeMutablePointer<T>, bias: UnsafePointer<T>?) {
            let phaseStride = inner.height * inner.width
            let pointers = SendableBox((phases, x))
            Parallel.forEach(g.batch) { n in
                let (phases, x) = pointers.value
                forEachInputRow(ofSample: n, phaseStride: phaseStride, sampleOffset: n * inner.inputChannels * phaseStride) { input, phase, channel in
                    let (pixels, row) = (x + input, phases + phase)
                    if g.stride == 2 {
                        gatherRow(row, to: pixels, phaseStride: phaseStride)
                    } else {
                        forEachColumn(phaseStride: phaseStride) { w, offset in pixels[w] = row[offset] }
                    }
                    if let bias {
                        let b = bias[channel]
                        for w in 0..<g.width { pixels[w] += b }
                    }
                }
            }
        }

        /// Calls `body` with the offset of each row h of sample n's input, that of its row in
        /// phase (c, a, 0), and its channel c: row h is row u = (h + p) / s of the phases a = (h + p) mod s, whose
        /// planes lie `phaseStride` apart, each holding sample n from `sampleOffset`.
        @inline(__always)
        private func forEachInputRow(ofSample n: Int, phaseStride: Int, sampleOffset: Int,
                                     _ body: (_ input: Int, _ phase: Int, _ channel: Int) -> Void) {
            let (s, p, wz) = (g.stride, g.padding, inner.width)
            for c in 0..<g.inputChannels {
                var (u, a) = (p / s, p % s)
                for h in 0..<g.height {
                    body(((n * g.inputChannels + c) * g.height + h) * g.width, sampleOffset + (c * s + a) * s * phaseStride + u * wz, c)
                    a += 1
                    if a == s { (a, u) = (0, u + 1) }
                }
            }
        }

        /// Calls `body` with each column w of a row and its offset from that row in phase b = 0:
        /// column w is position v = (w + p) / s of phase b = (w + p) mod s, at b · `phaseStride` + v.
        @inline(__always)
        private func forEachColumn(phaseStride: Int, _ body: (_ column: Int, _ offset: Int) -> Void) {
            let (s, p) = (g.stride, g.padding)
            var (v, b) = (p / s, p % s)
            for w in 0..<g.width {
                body(w, b * phaseStride + v)
                b += 1
                if b == s { (b, v) = (0, v + 1) }
            }
        }

        /// At stride 2 (every strided layer in the book), a row's own loop in place of
        /// `forEachColumn`'s. Column w goes to position (w + p) / 2 of phase (w + p) mod 2, so the
        /// even columns 2q all go to one phase, at q + ⌊p/2⌋, and the odd ones 2q + 1 to the other,
        /// at q + ⌊(p + 1)/2⌋: the row is pairs from its first pixel on. One vector load holds eight,
        /// four or two pairs, the even columns in its even lanes; the last pair or pixel goes alone.
        @inline(__always)
        private func stride2Rows<T>(_ row: UnsafePointer<T>, phaseStride: Int) -> (even: UnsafePointer<T>, odd: UnsafePointer<T>) {
            let p = g.padding
            return (row + (p % 2) * phaseStride + p / 2, row + ((p + 1) % 2) * phaseStride + (p + 1) / 2)
        }

        /// Deals one row of pixels out to its two phase rows (see `stride2Rows`).
        @inline(__always)
        private func dealRow<T: TensorScalar>(_ pixels: UnsafePointer<T>, to row: UnsafeMutablePointer<T>,
                                              phaseStride: Int) {
            let (evenRow, oddRow) = stride2Rows(UnsafePointer(row), phaseStride: phaseStride)
            let (even, odd) = (UnsafeMutablePointer(mutating: evenRow), UnsafeMutablePointer(mutating: oddRow))
            let pairs = g.width / 2
            var q = 0
            while q + 8 <= pairs {
                let both = UnsafeRawPointer(pixels + 2 * q).loadUnaligned(as: SIMD16<T>.self)
                UnsafeMutableRawPointer(even + q).storeBytes(of: both.evenHalf, as: SIMD8<T>.self)
                UnsafeMutableRawPointer(odd + q).storeBytes(of: both.oddHalf, as: SIMD8<T>.self)
                q += 8
            }
            if q + 4 <= pairs {
                let both = UnsafeRawPointer(pixels + 2 * q).loadUnaligned(as: SIMD8<T>.self)
                UnsafeMutableRawPointer(even + q).storeBytes(of: both.evenHalf, as: SIMD4<T>.self)
                UnsafeMutableRawPointer(odd + q).storeBytes(of: both.oddHalf, as: SIMD4<T>.self)
                q += 4
            }
            if q + 2 <= pairs {
                let both = UnsafeRawPointer(pixels + 2 * q).loadUnaligned(as: SIMD4<T>.self)
                UnsafeMutableRawPointer(even + q).storeBytes(of: both.evenHalf, as: SIMD2<T>.self)
                UnsafeMutableRawPointer(odd + q).storeBytes(of: both.oddHalf, as: SIMD2<T>.self)
                q += 2
            }
            if q < pairs { (even[q], odd[q]) = (pixels[2 * q], pixels[2 * q + 1]) }
            if g.width % 2 == 1 { even[pairs] = pixels[g.width - 1] }
        }

        /// The adjoint of `dealRow`: the row of pixels from its two phase rows, pairs interleaved.
        @inline(__always)
        private func gatherRow<T: TensorScalar>(_ row: UnsafePointer<T>, to pixels: UnsafeMutablePointer<T>,
                                                phaseStride: Int) {
            let (even, odd) = stride2Rows(row, phaseStride: phaseStride)
            let pairs = g.width / 2
            var q = 0
            while q + 8 <= pairs {
                var both = SIMD16<T>()
                both.evenHalf = UnsafeRawPointer(even + q).loadUnaligned(as: SIMD8<T>.self)
                both.oddHalf = UnsafeRawPointer(odd + q).loadUnaligned(as: SIMD8<T>.self)
                UnsafeMutableRawPointer(pixels + 2 * q).storeBytes(of: both, as: SIMD16<T>.self)
                q += 8
            }
            if q + 4 <= pairs {
                var both = SIMD8<T>()
                both.evenHalf = UnsafeRawPointer(even + q).loadUnaligned(as: SIMD4<T>.self)
                both.oddHalf = UnsafeRawPointer(odd + q).loadUnaligned(as: SIMD4<T>.self)
                UnsafeMutableRawPointer(pixels + 2 * q).storeBytes(of: both, as: SIMD8<T>.self)
                q += 4
            }
            if q + 2 <= pairs {
                var both = SIMD4<T>()
                both.evenHalf = UnsafeRawPointer(even + q).loadUnaligned(as: SIMD2<T>.self)
                both.oddHalf = UnsafeRawPointer(odd + q).loadUnaligned(as: SIMD2<T>.self)
                UnsafeMutableRawPointer(pixels + 2 * q).storeBytes(of: both, as: SIMD4<T>.self)
                q += 2
            }
            if q < pairs { (pixels[2 * q], pixels[2 * q + 1]) = (even[q], odd[q]) }
            if g.width % 2 == 1 { pixels[g.width - 1] = even[pairs] }
        }

        /// W′ from W, or (`toPhases: false`) W's gradient from W′'s, dropping the zero taps. Each
        /// (o, c) holds the same taps in the same places, so one table of them serves every pair;
        /// the output channels are spread over the threads.
        func rearrange<T: TensorScalar>(_ w: UnsafeMutablePointer<T>, _ phased: UnsafeMutablePointer<T>, toPhases: Bool) {
            let (s, kh, kw, k) = (g.stride, g.kernelHeight, g.kernelWidth, inner.kernelHeight)
            let block = s * s * k * k
            // taps[t]: the tap i·kw + j of W[o, c] that entry t of W′[o, (c, ·, ·)] holds, or −1 for a zero tap;
            // W′[o, (c, a, b), i′, j′] = W[o, c, s·i′ + a, s·j′ + b].
            var taps = [Int](repeating: -1, count: block)
            for a in 0..<s {
                for b in 0..<s {
                    for i in 0..<k where s * i + a < kh {
                        for j in 0..<k where s * j + b < kw { taps[((a * s + b) * k + i) * k + j] = (s * i + a) * kw + s * j + b }
                    }
                }
            }
            taps.withUnsafeBufferPointer { taps in
                let pointers = SendableBox((w, phased, taps))
                Parallel.forEach(g.outputChannels, elements: g.outputChannels * g.inputChannels * block) { o in
                    let (w, phased, taps) = pointers.value
                    for pair in o * g.inputChannels..<(o + 1) * g.inputChannels {
                        let (original, phases) = (w + pair &* kh &* kw, phased + pair &* block)   // W[o, c], W′[o, (c, 0, 0)]
                        for t in 0..<block {
                            let tap = taps[t]
                            if toPhases { phases[t] = tap >= 0 ? original[tap] : 0 } else if tap >= 0 { original[tap] = phases[t] }
                        }
                    }
                }
            }
        }
    }

    /// Runs `body` on x split into its phases, in the padded planes of the inner convolution's
    /// shifted layout, with room for that convolution's weights (W′, or their gradient).
    @inline(__always)
    private static func withPhases<T: TensorScalar>(of x: UnsafePointer<T>, _ polyphase: Polyphase,
                                            _ body: (_ planes: UnsafePointer<T>, ShiftedLayout, _ phasedWeights: UnsafeMutablePointer<T>) -> Void) {
        let layout = ShiftedLayout(polyphase.inner)
        MemoryPool.withScratch(T.self, count: polyphase.inner.outputChannels * polyphase.inner.patchSize) { phasedWeights in
            MemoryPool.withScratch(T.self, count: layout.paddedCount) { planes in
                polyphase.splitPhases(x, into: planes)
                body(UnsafePointer(planes), layout, phasedWeights)
            }
        }
    }

    /// y = the strided convolution of x, as the stride-1 convolution of its phases, chunk by chunk
    /// of samples: each chunk's phases are split, multiplied and put in place by one thread.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func polyphaseForward<T: TensorScalar>(_ x: UnsafePointer<T>, _ w: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>,
                                                  _ polyphase: Polyphase, bias: UnsafePointer<T>?) {
        let (g, inner) = (polyphase.g, polyphase.inner)
        let (inputSize, outputSize) = (g.inputChannels * g.height * g.width, g.outputChannels * g.outputPixels)
        MemoryPool.withScratch(T.self, count: inner.outputChannels * inner.patchSize) { phasedWeights in
            polyphase.rearrange(w, phasedWeights, toPhases: true)
            shiftedForwardInChunks(inner, UnsafePointer(phasedWeights), fill: { samples, _, planes in
                polyphase.withBatch(samples.count).splitPhases(x + samples.lowerBound * inputSize, into: planes)
            }, emit: { samples, layout, product in
                regrid(y + samples.lowerBound * outputSize, product, layout, toGrid: false, bias: bias)
            })
        }
    }

    /// x = the transposed strided convolution of y: the stride-1 adjoint onto the phases, merged
    /// into pixels, chunk by chunk of samples as `polyphaseForward`.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func polyphaseInputAdjoint<T: TensorScalar>(_ y: UnsafePointer<T>, _ w: UnsafeMutablePointer<T>, _ x: UnsafeMutablePointer<T>,
                                                       _ polyphase: Polyphase, bias: UnsafePointer<T>?) {
        let (g, inner) = (polyphase.g, polyphase.inner)
        let adjoint = adjointAsForward(inner)!                  // a square kernel without padding always has one
        let (phasesSize, pixelsSize) = (inner.inputChannels * inner.height * inner.width, g.inputChannels * g.height * g.width)
        let outputSize = g.outputChannels * g.outputPixels
        MemoryPool.withScratch(T.self, count: inner.outputChannels * inner.patchSize) { phasedWeights in
            polyphase.rearrange(w, phasedWeights, toPhases: true)
            withTransposedFlipped(UnsafePointer(phasedWeights), inner) { flipped in
                shiftedForwardInChunks(adjoint, flipped, fill: { samples, layout, planes in
                    pad(y + samples.lowerBound * outputSize, layout, into: planes)
                }, emit: { samples, layout, product in
                    MemoryPool.withScratch(T.self, count: samples.count * phasesSize) { phases in
                        regrid(phases, product, layout, toGrid: false)
                        polyphase.withBatch(samples.count).mergePhases(UnsafePointer(phases), into: x + samples.lowerBound * pixelsSize,
                                                                       bias: bias)
                    }
                })
            }
        }
    }

    /// W = the weight gradient of the stride-1 convolution of the phases, taps put back.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func polyphaseWeightGradient<T: TensorScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ w: UnsafeMutablePointer<T>,
                                                         _ polyphase: Polyphase) {
        withPhases(of: x, polyphase) { planes, layout, phasedGradient in
            shiftedWeightGradient(planes: planes, layout, y, phasedGradient)
            polyphase.rearrange(w, phasedGradient, toPhases: false)
        }
    }
}
