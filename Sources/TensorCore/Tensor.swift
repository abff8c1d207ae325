import Foundation

/// An n-dimensional array of `Float` or `Double` with reverse-mode automatic differentiation.
///
/// A tensor is a shape, a dtype and contiguous row-major storage. Tensors produced by
/// differentiable operations remember the operation (`gradientFunction`), so that
/// `backward()` can walk the recorded graph in reverse. Layout of images is NCHW.
public final class Tensor {
    /// The size of each axis; `[]` is a scalar.
    public let shape: [Int]
    /// The element type.
    public let dtype: DType
    let storage: TensorStorage

    /// Whether gradients flow to this tensor. Set it on the leaves you want `grad` for
    /// (parameters, or inputs under a gradient check); results of ops inherit it.
    public var requiresGrad: Bool
    /// The accumulated gradient of the last `backward()` calls, for tensors that require it.
    public var grad: Tensor?
    /// The operation that produced this tensor, when it was recorded for autograd.
    public internal(set) var gradientFunction: GradientFunction?

    init(shape: [Int], storage: TensorStorage, requiresGrad: Bool = false) {
        require(shape.allSatisfy { $0 >= 0 }, "tensor: negative size in shape \(Shape.text(shape))")
        require(Shape.count(shape) == storage.count,
                "tensor: shape \(Shape.text(shape)) needs \(Shape.count(shape)) elements, storage has \(storage.count)")
        self.shape = shape
        self.dtype = storage.dtype
        self.storage = storage
        self.requiresGrad = requiresGrad
    }

    /// A tensor whose elements are undefined: the starting point of every kernel's output, which
    /// the kernel must write in full (kernels that accumulate clear it first).
    convenience init(uninitialized shape: [Int], dtype: DType) {
        self.init(shape: shape, storage: TensorStorage(dtype: dtype, count: Shape.count(shape)))
    }

    /// A tensor holding `values` (row-major) with the given shape.
    public convenience init<T: TensorScalar>(_ values: [T], shape: [Int], requiresGrad: Bool = false) {
        require(values.count == Shape.count(shape),
                "Tensor(_:shape:): \(values.count) values do not fill shape \(Shape.text(shape))")
        self.init(uninitialized: shape, dtype: T.dtype)
        _ = storage.buffer(T.self).initialize(from: values)
        self.requiresGrad = requiresGrad
    }

    /// A tensor of `dtype` holding `values` (row-major), each converted to that dtype.
    public convenience init(_ values: [Double], shape: [Int], dtype: DType, requiresGrad: Bool = false) {
        // `self.init` cannot be delegated to inside a closure, so build the tensor and take its storage.
        let converted = dtype.select(float32: Tensor(values.map { Float($0) }, shape: shape), float64: Tensor(values, shape: shape))
        self.init(shape: shape, storage: converted.storage, requiresGrad: requiresGrad)
    }

    /// A 0-dimensional tensor holding one value.
    public convenience init(scalar: Double, dtype: DType = .float32) {
        self.init([scalar], shape: [], dtype: dtype)
    }

    /// The number of elements.
    public var count: Int { storage.count }
    /// The number of axes.
    public var rank: Int { shape.count }

    /// The elements, row-major, as `Float`s (converted when the dtype is float64).
    public var floats: [Float] {
        dtype.select(float32: Array(storage.buffer(Float.self)), float64: storage.buffer(Double.self).map { Float($0) })
    }

    /// The elements, row-major, as `Double`s (converted when the dtype is float32).
    public var doubles: [Double] {
        dtype.select(float32: storage.buffer(Float.self).map { Double($0) }, float64: Array(storage.buffer(Double.self)))
    }

    /// The only element of a one-element tensor.
    public var item: Double {
        require(count == 1, "item: tensor of shape \(Shape.text(shape)) has \(count) elements, not 1")
        return doubles[0]
    }

    /// Direct access to the elements for kernels and optimizers. `T` must match `dtype`.
    public func withElements<T: TensorScalar, R>(_: T.Type, _ body: (UnsafeMutableBufferPointer<T>) throws -> R) rethrows -> R {
        require(T.dtype == dtype, "withElements: tensor is \(dtype), accessed as \(T.dtype)")
        return try body(storage.buffer(T.self))
    }

    /// A tensor with the same elements that is not part of any graph: gradients stop here.
    /// It shares storage with `self`, as PyTorch's `detach()` does.
    public func detached() -> Tensor {
        Tensor(shape: shape, storage: storage)
    }

    /// An independent copy of the elements, not part of any graph.
    public func copy() -> Tensor {
        let result = Tensor(uninitialized: shape, dtype: dtype)
        result.storage.raw.copyMemory(from: storage.raw, byteCount: count * dtype.byteCount)
        return result
    }

    /// The same values converted to another dtype (differentiable).
    public func converted(to target: DType) -> Tensor {
        if target == dtype { return self }
        let result = Tensor(uninitialized: shape, dtype: target)
        func run<Source: TensorScalar, Target: TensorScalar>(_: Source.Type, to _: Target.Type) {
            let source = storage.buffer(Source.self), destination = result.storage.buffer(Target.self)
            for i in 0..<count { destination[i] = Target(source[i]) }
        }
        // `target` differs from `dtype`, so a float32 tensor becomes float64 and a float64 one float32.
        dtype.select(float32: run(Float.self, to: Double.self), float64: run(Double.self, to: Float.self))
        let sourceType = dtype
        return result.recorded("converted(to: \(target))", [self]) { g in [g.converted(to: sourceType)] }
    }

    /// Overwrites the elements with those of `other` (same shape and dtype), outside autograd.
    /// Used to load weights and by optimizers.
    public func assign(_ other: Tensor) {
        require(other.shape == shape && other.dtype == dtype,
                "assign: \(Shape.text(other.shape)) \(other.dtype) into \(Shape.text(shape)) \(dtype)")
        storage.raw.copyMemory(from: other.storage.raw, byteCount: count * dtype.byteCount)
    }
}

extension Tensor: CustomStringConvertible {
    /// A short rendering: shape, dtype and up to eight leading values.
    public var description: String {
        let values = doubles.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(\(Shape.text(shape)), \(dtype): [\(values)\(count > 8 ? ", …" : "")])"
    }
}
