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
        func splitPhases<T: TensorScalar>(_ x: UnsafePointer<T>, into planes: UnsafeMutablePointer<T>) {
            let layout = ShiftedLayout(inner)
            let (s, p, hz, wz) = (g.stride, g.padding, inner.height, inner.width)
            let end = inner.inputChannels * layout.planeStride
            (planes + end).update(repeating: 0, count: layout.paddedCount - end)
            let pointers = SendableBox((x, planes))
            Parallel.forEach(g.batch) { n in
                let (x, planes) = pointers.value
                for c in 0..<g.inputChannels {
                    let source = x + (n * g.inputChannels + c) * g.height * g.width
                    for a in 0..<s {
                        for b in 0..<s {
                            let phase = planes + ((c * s + a) * s + b) * layout.planeStride + n * hz * wz
                            let columns = Polyphase.sources(phase: b, stride: s, padding: p, length: g.width, count: wz)
                            for u in 0..<hz {
                                let row = phase + u * wz, h = s * u + a - p
                                guard h >= 0 && h < g.height else { row.update(repeating: 0, count: wz); continue }
                                let pixels = source + h * g.width + b - p                  // pixels[s·v] is column s·v + b − p
                                for v in 0..<columns.lowerBound { row[v] = 0 }
                                for v in columns { row[v] = pixels[v &* s] }
                                for v in columns.upperBound..<wz { row[v] = 0 }
                            }
                        }
                    }
                }
            }
        }

        /// The phase positions v whose pixel s·v + phase − padding lies inside a line of `length`.
        static func sources(phase: Int, stride s: Int, padding p: Int, length: Int, count: Int) -> Range<Int> {
            let first = max(0, (p - phase + s - 1) / s)
            let last = min(count, max(0, (length + p - phase + s - 1) / s))
            return first..<max(first, last)
        }

        /// The adjoint of `splitPhases`: x `[N, C, H, W]` from phases `[N, C·s², Hz, Wz]` (each pixel
        /// is in exactly one phase; padding positions are dropped).
        func mergePhases<T: TensorScalar>(_ phases: UnsafePointer<T>, into x: UnsafeMutablePointer<T>) {
            let (s, p, hz, wz) = (g.stride, g.padding, inner.height, inner.width)
            let pointers = SendableBox((phases, x))
            Parallel.forEach(g.batch) { n in
                let (phases, x) = pointers.value
                for c in 0..<g.inputChannels {
                    let target = x + (n * g.inputChannels + c) * g.height * g.width
                    for h in 0..<g.height {
                        let (u, a) = ((h + p) / s, (h + p) % s), row = target + h * g.width
                        for b in 0..<s {
                            let source = phases + ((n * inner.inputChannels + (c * s + a) * s + b) * hz + u) * wz
                            let target = row + b - p                                       // target[s·v] is column s·v + b − p
                            for v in Polyphase.sources(phase: b, stride: s, padding: p, length: g.width, count: wz) {
                                target[v &* s] = source[v]
                            }
                        }
                    }
                }
            }
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
