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
        /// it costs at most half again `g`'s multiplications (counting zero taps and the positions
        /// shifted windows drop): 4×4 kernels at stride 2 qualify down to 4×4 inputs, 3×3 ones
        /// (16 taps for 9) do not.
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
            let work = inner.patchSize * ShiftedLayout(inner.withBatch(1)).positions, needed = g.patchSize * g.outputPixels
            guard 2 * work <= 3 * needed else { return nil }
            (self.g, self.inner) = (g, inner)
        }

        private init(g: ConvolutionGeometry, inner: ConvolutionGeometry) { (self.g, self.inner) = (g, inner) }

        /// The same convolution for `count` samples.
        func withBatch(_ count: Int) -> Polyphase { Polyphase(g: g.withBatch(count), inner: inner.withBatch(count)) }

        /// The phases of x `[N, C, H, W]`, written straight into the padded planes of `layout`, a
        /// shifted layout of `inner` (which has no padding of its own: the phases hold it), one
        /// input channel per task. The task zeroes its channel's s² planes, then deals each pixel
        /// out to its place.
        func splitPhases<T: TensorScalar>(_ x: UnsafePointer<T>, _ layout: ShiftedLayout, into planes: UnsafeMutablePointer<T>) {
            zeroPastThePlanes(layout, planes)
            let pointers = SendableBox((x, planes))
            Parallel.forEach(g.inputChannels, elements: layout.paddedCount) { c in
                let (x, planes) = pointers.value
                let phases = g.stride * g.stride
                Runs.zero(planes + c * phases * layout.planeStride, count: phases * layout.planeStride)
                forEachPhaseRow(ofChannel: c, phaseStride: layout.planeStride, layout) { pixels, place, columns in
                    spread(x + pixels, stride: g.stride, to: planes + place, spacing: g.batch, count: columns)
                }
            }
        }

        /// The adjoint of `splitPhases`, read straight from the adjoint's product: x `[N, C, H, W]`
        /// from the phases in `grid` `[C·s², layout.columns]`, in the positions of `layout` (each
        /// pixel is in exactly one phase; padding positions are dropped), plus `bias[c]` when given.
        func mergePhases<T: TensorScalar>(_ grid: UnsafePointer<T>, _ layout: ShiftedLayout,
                                          into x: UnsafeMutablePointer<T>, bias: UnsafePointer<T>?) {
            let pointers = SendableBox((grid, x))
            Parallel.forEach(g.inputChannels, elements: g.batch * g.inputChannels * g.height * g.width) { c in
                let (grid, x) = pointers.value
                forEachPhaseRow(ofChannel: c, phaseStride: layout.columns, layout) { pixels, place, columns in
                    spread(grid + place, stride: g.batch, to: x + pixels, spacing: g.stride, count: columns, adding: bias?[c])
                }
            }
        }

        /// Copies `count` values `stride` apart to places `spacing` apart, plus `bias` when given: a
        /// row's pixels of one phase to their places among the samples', or back.
        @inline(__always)
        private func spread<T: TensorScalar>(_ source: UnsafePointer<T>, stride: Int, to target: UnsafeMutablePointer<T>,
                                             spacing: Int, count: Int, adding bias: T? = nil) {
            var (value, place) = (source, target)
            if let bias {
                for _ in 0..<count { place.pointee = value.pointee + bias; (value, place) = (value + stride, place + spacing) }
            } else {
                for _ in 0..<count { place.pointee = value.pointee; (value, place) = (value + stride, place + spacing) }
            }
        }

        /// The pixels of one phase along one axis of `extent` pixels: those at first, first + s, …
        /// (count of them) fall in phase b, at its places from `place` = (first + p) / s on.
        @inline(__always)
        private func phaseSpan(_ b: Int, extent: Int) -> (first: Int, place: Int, count: Int) {
            let (s, p) = (g.stride, g.padding)
            let first = ((b - p) % s + s) % s
            return (first, (first + p) / s, (extent - first + s - 1) / s)
        }

        /// Calls `body` for every sample's every row h of channel c in every phase (a, b) — the
        /// row's pixels in phase b, which are `columns` pixels s apart from offset `pixels` in x and
        /// as many places n apart (for n samples) from offset `place` in the phase planes (or grid
        /// rows) `phaseStride` apart, each holding `layout`'s positions. Row h is row u = (h + p) / s
        /// of phase a = (h + p) mod s. The phases b of a row and the samples are the inner loops, so
        /// that the phase rows written stay in cache.
        @inline(__always)
        private func forEachPhaseRow(ofChannel c: Int, phaseStride: Int, _ layout: ShiftedLayout,
                                     _ body: (_ pixels: Int, _ place: Int, _ columns: Int) -> Void) {
            let s = g.stride
            for a in 0..<s {
                let rows = phaseSpan(a, extent: g.height)
                for r in 0..<rows.count {
                    let (h, u) = (rows.first + r * s, rows.place + r)
                    for b in 0..<s {
                        let columns = phaseSpan(b, extent: g.width)
                        let place = ((c * s + a) * s + b) * phaseStride + layout.place(row: u, column: columns.place)
                        for sample in 0..<g.batch {
                            body(((sample * g.inputChannels + c) * g.height + h) * g.width + columns.first, place + sample, columns.count)
                        }
                    }
                }
            }
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
                polyphase.splitPhases(x, layout, into: planes)
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
            shiftedForwardInChunks(inner, UnsafePointer(phasedWeights), fill: { samples, layout, planes in
                polyphase.withBatch(samples.count).splitPhases(x + samples.lowerBound * inputSize, layout, into: planes)
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
        let pixelsSize = g.inputChannels * g.height * g.width
        let outputSize = g.outputChannels * g.outputPixels
        MemoryPool.withScratch(T.self, count: inner.outputChannels * inner.patchSize) { phasedWeights in
            polyphase.rearrange(w, phasedWeights, toPhases: true)
            withTransposedFlipped(UnsafePointer(phasedWeights), inner) { flipped in
                shiftedForwardInChunks(adjoint, flipped, fill: { samples, layout, planes in
                    pad(y + samples.lowerBound * outputSize, layout, into: planes)
                }, emit: { samples, layout, product in
                    polyphase.withBatch(samples.count).mergePhases(UnsafePointer(product), layout, into: x + samples.lowerBound * pixelsSize,
                                                                   bias: bias)
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
