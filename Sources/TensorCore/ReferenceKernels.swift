/// The plain-loop versions of the fast kernels: what the fast paths compute, written so a
/// student can follow it. Tests check that the fast kernels agree with these.
public enum ReferenceKernels {
    /// `a · b` for matrices, by the textbook triple loop.
    public static func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        require(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0] && a.dtype == b.dtype,
                "ReferenceKernels.matmul: \(Shape.text(a.shape)) × \(Shape.text(b.shape))")
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        let c = Tensor(uninitialized: [m, n], dtype: a.dtype)
        func run<T: TensorScalar>(_: T.Type) {
            MatrixMultiply.reference(m: m, n: n, k: k,
                                     MatrixView(base: UnsafePointer(a.storage.buffer(T.self).baseAddress!), rowStride: k, columnStride: 1),
                                     MatrixView(base: UnsafePointer(b.storage.buffer(T.self).baseAddress!), rowStride: n, columnStride: 1),
                                     c.storage.buffer(T.self).baseAddress!, ldc: n, accumulate: false)
        }
        a.dtype.select(float32: run(Float.self), float64: run(Double.self))
        return c
    }

    /// The convolution geometry of input `x` with weight `[O, C, kh, kw]`.
    public static func geometry(input: [Int], weight: [Int], stride: Int, padding: Int) -> ConvolutionGeometry {
        ConvolutionGeometry(batch: input[0], inputChannels: input[1], outputChannels: weight[0], height: input[2], width: input[3],
                            kernelHeight: weight[2], kernelWidth: weight[3], stride: stride, padding: padding)
    }

    /// conv2d without bias, by direct summation over every kernel tap.
    public static func conv2d(_ x: Tensor, _ w: Tensor, _ g: ConvolutionGeometry) -> Tensor {
        func run<T: TensorScalar>(_ x: [T], _ w: [T]) -> Tensor { Tensor(ConvolutionKernels.referenceForward(x, w, g), shape: g.outputShape) }
        return x.dtype.select(float32: run(x.floats, w.floats), float64: run(x.doubles, w.doubles))
    }

    /// The transposed convolution (input gradient of conv2d) by direct summation.
    public static func convolutionInputAdjoint(_ y: Tensor, _ w: Tensor, _ g: ConvolutionGeometry) -> Tensor {
        func run<T: TensorScalar>(_ y: [T], _ w: [T]) -> Tensor { Tensor(ConvolutionKernels.referenceInputAdjoint(y, w, g), shape: g.inputShape) }
        return y.dtype.select(float32: run(y.floats, w.floats), float64: run(y.doubles, w.doubles))
    }

    /// The weight gradient of conv2d by direct summation.
    public static func convolutionWeightGradient(_ x: Tensor, _ y: Tensor, _ g: ConvolutionGeometry) -> Tensor {
        func run<T: TensorScalar>(_ x: [T], _ y: [T]) -> Tensor { Tensor(ConvolutionKernels.referenceWeightGradient(x, y, g), shape: g.weightShape) }
        return x.dtype.select(float32: run(x.floats, y.floats), float64: run(x.doubles, y.doubles))
    }
}
