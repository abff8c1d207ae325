// MARK: - Pooling and upsampling

extension Tensor {
    /// Average over `kernel`×`kernel` windows moved by `stride` (default: the kernel size) on a
    /// `[N, C, H, W]` tensor, zero padding included in the average (PyTorch's `avg_pool2d`).
    public func avgPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        require(rank == 4, "avgPool2d: expected [N, C, H, W], got \(Shape.text(shape))")
        let window = PoolingKernels.Window(kernel: kernel, stride: stride ?? kernel, padding: padding, height: shape[2], width: shape[3])
        require(kernel >= 1 && window.stride >= 1 && padding >= 0 && padding * 2 <= kernel,
                "avgPool2d: kernel \(kernel), stride \(window.stride), padding \(padding) (padding at most half the kernel)")
        require(window.outputHeight >= 1 && window.outputWidth >= 1, "avgPool2d: window \(kernel) larger than input \(Shape.text(shape))")
        return Tensor.averagePool(self, window)
    }

    private static func averagePool(_ x: Tensor, _ window: PoolingKernels.Window) -> Tensor {
        let y = pooled(x, adjoint: false, window)
        return y.recorded("avgPool2d", [x]) { g in [averagePoolAdjoint(g, window)] }
    }

    private static func averagePoolAdjoint(_ y: Tensor, _ window: PoolingKernels.Window) -> Tensor {
        let x = pooled(y, adjoint: true, window)
        return x.recorded("avgPool2d adjoint", [y]) { g in [averagePool(g, window)] }
    }

    /// The average pool of `input` over `window`, or (`adjoint`) its adjoint, which spreads each
    /// output back over its window; unrecorded.
    private static func pooled(_ input: Tensor, adjoint: Bool, _ window: PoolingKernels.Window) -> Tensor {
        let (batch, channels) = (input.shape[0], input.shape[1])
        let size = adjoint ? [window.height, window.width] : [window.outputHeight, window.outputWidth]
        let result = Tensor(uninitialized: [batch, channels] + size, dtype: input.dtype)
        func run<T: TensorScalar>(_: T.Type) {
            let (source, destination) = (input.storage.buffer(T.self), result.storage.buffer(T.self))
            if adjoint {
                PoolingKernels.averagePoolAdjoint(source, destination, planes: batch * channels, window)
            } else {
                PoolingKernels.averagePool(source, destination, planes: batch * channels, window)
            }
        }
        input.dtype.select(float32: run(Float.self), float64: run(Double.self))
        return result
    }

    /// Nearest-neighbour upsampling of `[N, C, H, W]` by an integer factor: each pixel becomes a
    /// `scale`×`scale` block. Its gradient sums each block (an average pool times scale²).
    public func upsampledNearest(scale: Int) -> Tensor {
        require(rank == 4 && scale >= 1, "upsampledNearest: expected [N, C, H, W] and scale ≥ 1, got \(Shape.text(shape)), \(scale)")
        let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        let y = Tensor(uninitialized: [shape[0], shape[1], h * scale, w * scale], dtype: dtype)
        func run<T: TensorScalar>(_: T.Type) {
            PoolingKernels.upsampleNearest(storage.buffer(T.self), y.storage.buffer(T.self), planes: planes, height: h, width: w, scale: scale)
        }
        dtype.select(float32: run(Float.self), float64: run(Double.self))
        return y.recorded("upsampleNearest", [self]) { g in [g.avgPool2d(kernel: scale) * Double(scale * scale)] }
    }
}
