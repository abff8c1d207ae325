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

        /// The phases of x `[N, C, H, W]`, written straight into the padded planes of `inner`'s
        /// shifted layout (no padding of its own: plane (c, a, b) is the samples' phases one after another).
        /// Each input row is read once and dealt out to its phases; the padding keeps the zeros written first.
        func splitPhases<T: TensorScalar>(_ x: UnsafePointer<T>, into planes: UnsafeMutablePointer<T>) {
            let layout = ShiftedLayout(inner)
            let phaseStride = layout.planeStride, samplePhase = inner.height * inner.width
            planes.update(repeating: 0, count: layout.paddedCount)
            let pointers = SendableBox((x, planes))
            Parallel.forEach(g.batch) { n in
                let (x, planes) = pointers.value
                forEachInputRow(ofSample: n, phaseStride: phaseStride, sampleOffset: n * samplePhase) { input, phase in
                    let (pixels, row) = (x + input, planes + phase)
                    let dealt = g.stride == 2 ? dealPairs(pixels, to: row, phaseStride: phaseStride) : 0..<0
                    forEachColumn(phaseStride: phaseStride, skipping: dealt) { w, offset in row[offset] = pixels[w] }
                }
            }
        }

        /// The adjoint of `splitPhases`: x `[N, C, H, W]` from phases `[N, C·s², Hz, Wz]` (each pixel
        /// is in exactly one phase; padding positions are dropped).
        func mergePhases<T: TensorScalar>(_ phases: UnsafePointer<T>, into x: UnsafeMutablePointer<T>) {
            let phaseStride = inner.height * inner.width
            let pointers = SendableBox((phases, x))
            Parallel.forEach(g.batch) { n in
                let (phases, x) = pointers.value
                forEachInputRow(ofSample: n, phaseStride: phaseStride, sampleOffset: n * inner.inputChannels * phaseStride) { input, phase in
                    let (pixels, row) = (x + input, phases + phase)
                    forEachColumn(phaseStride: phaseStride) { w, offset in pixels[w] = row[offset] }
                }
            }
        }

        /// Calls `body` with the offset of each row h of sample n's input and that of its row in
        /// phase (c, a, 0): row h is row u = (h + p) / s of the phases a = (h + p) mod s, whose
        /// planes lie `phaseStride` apart, each holding sample n from `sampleOffset`.
        @inline(__always)
        private func forEachInputRow(ofSample n: Int, phaseStride: Int, sampleOffset: Int,
                                     _ body: (_ input: Int, _ phase: Int) -> Void) {
            let (s, p, wz) = (g.stride, g.padding, inner.width)
            for c in 0..<g.inputChannels {
                var (u, a) = (p / s, p % s)
                for h in 0..<g.height {
                    body(((n * g.inputChannels + c) * g.height + h) * g.width, sampleOffset + (c * s + a) * s * phaseStride + u * wz)
                    a += 1
                    if a == s { (a, u) = (0, u + 1) }
                }
            }
        }

        /// Calls `body` with each column w of a row outside `skipped` and its offset from that row
        /// in phase b = 0: column w is position v = (w + p) / s of phase b = (w + p) mod s, at
        /// b · `phaseStride` + v.
        @inline(__always)
        private func forEachColumn(phaseStride: Int, skipping skipped: Range<Int> = 0..<0, _ body: (_ column: Int, _ offset: Int) -> Void) {
            let (s, p) = (g.stride, g.padding)
            @inline(__always) func run(_ columns: Range<Int>) {
                var (v, b) = ((columns.lowerBound + p) / s, (columns.lowerBound + p) % s)
                for w in columns {
                    body(w, b * phaseStride + v)
                    b += 1
                    if b == s { (b, v) = (0, v + 1) }
                }
            }
            run(0..<skipped.lowerBound)
            run(skipped.upperBound..<g.width)
        }

        /// At stride 2, deals a row's pixels sixteen at a time: from a column of phase 0 on, one
        /// vector load holds eight pixels of phase 0 (its even lanes) and the eight of phase 1 at
        /// the same positions (its odd lanes). Returns the columns it dealt.
        @inline(__always)
        private func dealPairs<T: TensorScalar>(_ pixels: UnsafePointer<T>, to row: UnsafeMutablePointer<T>,
                                                phaseStride: Int) -> Range<Int> {
            let first = g.padding % 2                                  // (w + p) is even: phase 0
            var w = first
            while w + 16 <= g.width {
                let pair = UnsafeRawPointer(pixels + w).loadUnaligned(as: SIMD16<T>.self), v = (w + g.padding) / 2
                UnsafeMutableRawPointer(row + v).storeBytes(of: pair.evenHalf, as: SIMD8<T>.self)
                UnsafeMutableRawPointer(row + phaseStride + v).storeBytes(of: pair.oddHalf, as: SIMD8<T>.self)
                w += 16
            }
            return first..<w
        }

        /// W′ from W, or (`toPhases: false`) W's gradient from W′'s, dropping the zero taps.
        func rearrange<T: TensorScalar>(_ w: UnsafeMutablePointer<T>, _ phased: UnsafeMutablePointer<T>, toPhases: Bool) {
            let (s, kh, kw, k) = (g.stride, g.kernelHeight, g.kernelWidth, inner.kernelHeight)
            if toPhases { phased.update(repeating: 0, count: inner.outputChannels * inner.patchSize) }
            for o in 0..<g.outputChannels {
                for c in 0..<g.inputChannels {
                    for i in 0..<kh {
                        for j in 0..<kw {
                            let original = ((o * g.inputChannels + c) * kh + i) * kw + j
                            let phase = ((o * inner.inputChannels + (c * s + i % s) * s + j % s) * k + i / s) * k + j / s
                            if toPhases { phased[phase] = w[original] } else { w[original] = phased[phase] }
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

    /// y = the strided convolution of x, as the stride-1 convolution of its phases.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func polyphaseForward<T: TensorScalar>(_ x: UnsafePointer<T>, _ w: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>,
                                                  _ polyphase: Polyphase) {
        withPhases(of: x, polyphase) { planes, layout, phasedWeights in
            polyphase.rearrange(w, phasedWeights, toPhases: true)
            shiftedForward(planes: planes, layout, UnsafePointer(phasedWeights), y)
        }
    }

    /// x = the transposed strided convolution of y: the stride-1 adjoint onto the phases, merged.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func polyphaseInputAdjoint<T: TensorScalar>(_ y: UnsafePointer<T>, _ w: UnsafeMutablePointer<T>, _ x: UnsafeMutablePointer<T>,
                                                       _ polyphase: Polyphase) {
        let inner = polyphase.inner
        let adjoint = adjointAsForward(inner)!                  // a square kernel without padding always has one
        MemoryPool.withScratch(T.self, count: inner.outputChannels * inner.patchSize) { phasedWeights in
            MemoryPool.withScratch(T.self, count: inner.batch * inner.inputChannels * inner.height * inner.width) { phases in
                polyphase.rearrange(w, phasedWeights, toPhases: true)
                shiftedInputAdjoint(y, UnsafePointer(phasedWeights), phases, inner, adjoint: adjoint)
                polyphase.mergePhases(UnsafePointer(phases), into: x)
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
