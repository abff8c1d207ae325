/// Average pooling, its adjoint, and nearest-neighbour upsampling, on NCHW planes.
enum PoolingKernels {
    /// Window geometry of `avgPool2d` (padding counts as zeros in the average, as PyTorch's
    /// default `count_include_pad=True`).
    struct Window: Equatable {
        let kernel: Int, stride: Int, padding: Int
        let height: Int, width: Int
        var outputHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
        var outputWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
        /// Whether the windows tile the plane exactly: no padding, stride = kernel, sides divisible.
        var tiles: Bool { padding == 0 && stride == kernel && height % kernel == 0 && width % kernel == 0 }
    }

    /// Calls body(inputIndex, outputIndex) for every window tap inside one plane.
    @inline(__always)
    static func forEachTap(_ w: Window, _ body: (Int, Int) -> Void) {
        for oh in 0..<w.outputHeight {
            for ow in 0..<w.outputWidth {
                for i in 0..<w.kernel {
                    let ih = oh * w.stride - w.padding + i
                    guard ih >= 0 && ih < w.height else { continue }
                    for j in 0..<w.kernel {
                        let iw = ow * w.stride - w.padding + j
                        guard iw >= 0 && iw < w.width else { continue }
                        body(ih * w.width + iw, oh * w.outputWidth + ow)
                    }
                }
            }
        }
    }

    /// Runs `body(xPlane, yPlane)` for every plane of `x` (`xCount` elements each) and the plane of
    /// `y` (`yCount` each) it maps to, in groups of about 64 Ki elements per task: planes are
    /// independent, so the split cannot change a result.
    @inline(__always)
    static func forEachPlane<T>(_ x: UnsafeMutableBufferPointer<T>, _ y: UnsafeMutableBufferPointer<T>, planes: Int,
                                xCount: Int, yCount: Int,
                                _ body: (_ xPlane: UnsafeMutablePointer<T>, _ yPlane: UnsafeMutablePointer<T>) -> Void) {
        let perTask = max(1, Parallel.minimumParallelElements / max(1, xCount, yCount))
        let pointers = SendableBox((x.baseAddress!, y.baseAddress!))
        Parallel.forEach((planes + perTask - 1) / perTask) { task in
            for plane in (task * perTask)..<min(planes, (task + 1) * perTask) {
                body(pointers.value.0 + plane * xCount, pointers.value.1 + plane * yCount)
            }
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func averagePool<T: TensorScalar>(_ x: UnsafeMutableBufferPointer<T>, _ y: UnsafeMutableBufferPointer<T>,
                                             planes: Int, _ w: Window) {
        let scale = 1 / T(w.kernel * w.kernel)
        let outPlane = w.outputHeight * w.outputWidth
        forEachPlane(x, y, planes: planes, xCount: w.height * w.width, yCount: outPlane) { px, py in
            if w.tiles {
                // Windows that tile the plane: each output is the scaled sum of its own k×k block.
                for oh in 0..<w.outputHeight {
                    let out = py + oh * w.outputWidth
                    for ow in 0..<w.outputWidth { out[ow] = 0 }
                    for i in 0..<w.kernel {
                        let row = px + (oh * w.kernel + i) * w.width
                        for ow in 0..<w.outputWidth {
                            var total: T = 0
                            for j in 0..<w.kernel { total += row[ow &* w.kernel &+ j] }
                            out[ow] += total * scale
                        }
                    }
                }
                return
            }
            py.update(repeating: 0, count: outPlane)
            forEachTap(w) { i, o in py[o] += px[i] * scale }
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func averagePoolAdjoint<T: TensorScalar>(_ y: UnsafeMutableBufferPointer<T>, _ x: UnsafeMutableBufferPointer<T>,
                                                    planes: Int, _ w: Window) {
        let scale = 1 / T(w.kernel * w.kernel)
        let inPlane = w.height * w.width
        forEachPlane(x, y, planes: planes, xCount: inPlane, yCount: w.outputHeight * w.outputWidth) { px, py in
            if w.tiles {
                // Each input pixel lies in exactly one window: it gets that window's share.
                for ih in 0..<w.height {
                    let row = px + ih * w.width, out = py + (ih / w.kernel) * w.outputWidth
                    for iw in 0..<w.width { row[iw] = out[iw / w.kernel] * scale }
                }
                return
            }
            px.update(repeating: 0, count: inPlane)
            forEachTap(w) { i, o in px[i] += py[o] * scale }
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func upsampleNearest<T: TensorScalar>(_ x: UnsafeMutableBufferPointer<T>, _ y: UnsafeMutableBufferPointer<T>,
                                                 planes: Int, height: Int, width: Int, scale: Int) {
        let outW = width * scale
        forEachPlane(x, y, planes: planes, xCount: height * width, yCount: height * width * scale * scale) { px, py in
            for oh in 0..<(height * scale) {
                let source = px + (oh / scale) * width, row = py + oh * outW
                for ow in 0..<outW { row[ow] = source[ow / scale] }
            }
        }
    }
}
