// MARK: - Convolution

extension Tensor {
    /// 2-D cross-correlation as PyTorch's `conv2d`: input `[N, C, H, W]`, weight `[O, C, kh, kw]`,
    /// optional bias `[O]` → `[N, O, (H + 2p − kh)/s + 1, (W + 2p − kw)/s + 1]`.
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) -> Tensor {
        let context = "conv2d: input \(Shape.text(shape)), weight \(Shape.text(weight.shape))"
        require(rank == 4 && weight.rank == 4, "\(context): expected [N, C, H, W] and [O, C, kh, kw]")
        require(shape[1] == weight.shape[1], "\(context): input has \(shape[1]) channels, weight expects \(weight.shape[1])")
        require(stride >= 1 && padding >= 0, "\(context): stride \(stride), padding \(padding)")
        let geometry = ConvolutionGeometry(batch: shape[0], inputChannels: shape[1], outputChannels: weight.shape[0],
                                           height: shape[2], width: shape[3],
                                           kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
                                           stride: stride, padding: padding)
        require(shape[2] + 2 * padding >= weight.shape[2] && shape[3] + 2 * padding >= weight.shape[3],
                "\(context): padded input is smaller than the kernel")
        return Tensor.convolution(self, weight, geometry, bias: bias)
    }

    /// The transposed convolution of PyTorch's `conv_transpose2d`: input `[N, C, H, W]`, weight
    /// `[C, O, kh, kw]` → `[N, O, (H − 1)·s − 2p + kh + outputPadding, …]`. It is the adjoint
    /// (the input gradient) of `conv2d` with the same weight.
    public func convTranspose2d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                                outputPadding: Int = 0) -> Tensor {
        let context = "convTranspose2d: input \(Shape.text(shape)), weight \(Shape.text(weight.shape))"
        require(rank == 4 && weight.rank == 4, "\(context): expected [N, C, H, W] and [C, O, kh, kw]")
        require(shape[1] == weight.shape[0], "\(context): input has \(shape[1]) channels, weight expects \(weight.shape[0])")
        require(stride >= 1 && padding >= 0 && outputPadding >= 0 && outputPadding < stride,
                "\(context): stride \(stride), padding \(padding), output padding \(outputPadding) (must be < stride)")
        let height = (shape[2] - 1) * stride - 2 * padding + weight.shape[2] + outputPadding
        let width = (shape[3] - 1) * stride - 2 * padding + weight.shape[3] + outputPadding
        require(height > 0 && width > 0, "\(context): output would be \(height)×\(width)")
        let geometry = ConvolutionGeometry(batch: shape[0], inputChannels: weight.shape[1], outputChannels: shape[1],
                                           height: height, width: width,
                                           kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
                                           stride: stride, padding: padding)
        return Tensor.convolutionAdjoint(self, weight, geometry, bias: bias)
    }

    // MARK: The three differentiable primitives

    /// y = conv(x, W) (+ bias). Its gradients are the other two primitives, and the bias's the
    /// sum of the upstream gradient over batch and pixels.
    static func convolution(_ x: Tensor, _ w: Tensor, _ g: ConvolutionGeometry, bias: Tensor? = nil) -> Tensor {
        let y = primitive(.forward, x, w, bias: bias, into: g.outputShape, g)
        return y.recorded("conv2d", [x, w] + (bias.map { [$0] } ?? [])) { up in
            [x.requiresGrad ? convolutionAdjoint(up, w, g) : nil, w.requiresGrad ? convolutionWeightGradient(x, up, g) : nil]
                + biasGradient(bias, up)
        }
    }

    /// x = convᵀ(y, W) (+ bias): the transposed convolution.
    static func convolutionAdjoint(_ y: Tensor, _ w: Tensor, _ g: ConvolutionGeometry, bias: Tensor? = nil) -> Tensor {
        let x = primitive(.inputAdjoint, y, w, bias: bias, into: g.inputShape, g)
        return x.recorded("convTranspose2d", [y, w] + (bias.map { [$0] } ?? [])) { up in
            [y.requiresGrad ? convolution(up, w, g) : nil, w.requiresGrad ? convolutionWeightGradient(up, y, g) : nil]
                + biasGradient(bias, up)
        }
    }

    /// The gradient of a per-channel bias `[C]` added to `[N, C, H, W]`, as a list of none or one.
    private static func biasGradient(_ bias: Tensor?, _ up: Tensor) -> [Tensor?] {
        guard let bias else { return [] }
        return [bias.requiresGrad ? up.summed(toShape: [1, bias.count, 1, 1]).reshaped(bias.shape) : nil]
    }

    /// W-shaped Σ x·y: the weight gradient of a convolution.
    static func convolutionWeightGradient(_ x: Tensor, _ y: Tensor, _ g: ConvolutionGeometry) -> Tensor {
        let w = primitive(.weightGradient, x, y, into: g.weightShape, g)
        return w.recorded("conv2d weight gradient", [x, y]) { up in
            [x.requiresGrad ? convolutionAdjoint(y, up, g) : nil, y.requiresGrad ? convolution(x, up, g) : nil]
        }
    }

    /// The three primitives' kernels, which share one form: two operands in, one tensor out.
    private enum Primitive { case forward, inputAdjoint, weightGradient }

    /// Runs `kind`'s kernel on `a` and `b` into a new tensor of `shape`, unrecorded; a bias (one per
    /// channel of the result) is added in the kernel.
    private static func primitive(_ kind: Primitive, _ a: Tensor, _ b: Tensor, bias: Tensor? = nil, into shape: [Int],
                                  _ g: ConvolutionGeometry) -> Tensor {
        require(a.dtype == b.dtype, "convolution: dtypes differ, \(a.dtype) and \(b.dtype)")
        if let bias {
            require(bias.dtype == a.dtype, "convolution: bias is \(bias.dtype), the input \(a.dtype)")
            require(bias.count == shape[1], "convolution: bias \(Shape.text(bias.shape)) for \(shape[1]) output channels")
        }
        let result = Tensor(uninitialized: shape, dtype: a.dtype)
        func run<T: TensorScalar>(_: T.Type) {
            let (first, second, output) = (a.storage.buffer(T.self), b.storage.buffer(T.self), result.storage.buffer(T.self))
            let biasValues = bias.map { UnsafePointer($0.storage.buffer(T.self).baseAddress!) }
            switch kind {
            case .forward: ConvolutionKernels.forward(first, second, output, g, bias: biasValues)
            case .inputAdjoint: ConvolutionKernels.inputAdjoint(first, second, output, g, bias: biasValues)
            case .weightGradient: ConvolutionKernels.weightGradient(first, second, output, g)
            }
        }
        a.dtype.select(float32: run(Float.self), float64: run(Double.self))
        return result
    }
}
