// MARK: - Kernel dispatch

extension Tensor {
    /// Applies an elementwise kernel, producing an unrecorded result.
    func mapped(_ op: UnaryOp) -> Tensor {
        let result = Tensor(uninitialized: shape, dtype: dtype)
        func run<T: TensorScalar>(_: T.Type) { ElementwiseKernels.unary(op, storage.buffer(T.self), result.storage.buffer(T.self)) }
        dtype.select(float32: run(Float.self), float64: run(Double.self))
        return result
    }

    /// Combines two tensors elementwise with broadcasting, producing an unrecorded result.
    func combined(_ op: BinaryOp, _ other: Tensor, _ name: String) -> Tensor {
        require(dtype == other.dtype, "\(name): dtypes differ, \(dtype) and \(other.dtype)")
        guard let outShape = Shape.broadcast(shape, other.shape) else {
            fatalError("\(name): shapes \(Shape.text(shape)) and \(Shape.text(other.shape)) do not broadcast")
        }
        let result = Tensor(uninitialized: outShape, dtype: dtype)
        let plan = StridedPlan(shape: outShape,
                               firstStrides: Shape.broadcastStrides(shape, to: outShape),
                               secondStrides: Shape.broadcastStrides(other.shape, to: outShape))
        func run<T: TensorScalar>(_: T.Type) {
            ElementwiseKernels.binary(op, storage.buffer(T.self), other.storage.buffer(T.self), result.storage.buffer(T.self), plan: plan)
        }
        dtype.select(float32: run(Float.self), float64: run(Double.self))
        return result
    }

    /// Sums a broadcast gradient back down to `target` shape: the backward of broadcasting.
    public func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        return sum(alongAxes: axesSummed(toShape: target), keepingDimensions: true).reshaped(target)
    }

    /// (self · other).summed(toShape: target) for `other` of self's shape, as a product's backward
    /// needs it. Unrecorded (a backward without `createGraph`), the products are summed as they
    /// are formed instead of first written out whole; the sums are the same, bit for bit.
    func summedProduct(_ other: Tensor, toShape target: [Int]) -> Tensor {
        guard !GradMode.isEnabled, shape == other.shape, shape != target, dtype == other.dtype else {
            return (self * other).summed(toShape: target)
        }
        let axes = axesSummed(toShape: target)
        let kept = shape.indices.map { axes.contains($0) ? 1 : shape[$0] }
        let result = Tensor(uninitialized: kept, dtype: dtype)
        func run<T: TensorScalar>(_: T.Type) {
            ReductionKernels.sumOfProducts(storage.buffer(T.self), other.storage.buffer(T.self), shape: shape,
                                           outputStrides: Shape.broadcastStrides(kept, to: shape), result.storage.buffer(T.self))
        }
        dtype.select(float32: run(Float.self), float64: run(Double.self))
        return result.reshaped(target)
    }

    /// The axes that `summed(toShape:)` sums over: the leading ones `target` lacks, and those it has as 1.
    private func axesSummed(toShape target: [Int]) -> [Int] {
        let offset = rank - target.count
        require(offset >= 0, "summed(toShape:): \(Shape.text(shape)) cannot reduce to \(Shape.text(target))")
        var axes = Array(0..<offset)
        for (i, size) in target.enumerated() where size == 1 && shape[i + offset] != 1 { axes.append(i + offset) }
        return axes
    }
}

// MARK: - Arithmetic with broadcasting

extension Tensor {
    /// Elementwise sum with broadcasting.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        lhs.combined(.add, rhs, "+").recorded("add", [lhs, rhs]) { g in
            [g.summed(toShape: lhs.shape), g.summed(toShape: rhs.shape)]
        }
    }

    /// Elementwise difference with broadcasting.
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        lhs.combined(.subtract, rhs, "-").recorded("subtract", [lhs, rhs]) { g in
            [g.summed(toShape: lhs.shape), (-g).summed(toShape: rhs.shape)]
        }
    }

    /// Elementwise product with broadcasting.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        lhs.combined(.multiply, rhs, "*").recorded("multiply", [lhs, rhs]) { g in
            [lhs.requiresGrad ? g.summedProduct(rhs, toShape: lhs.shape) : nil,
             rhs.requiresGrad ? g.summedProduct(lhs, toShape: rhs.shape) : nil]
        }
    }

    /// Elementwise quotient with broadcasting.
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        lhs.combined(.divide, rhs, "/").recorded("divide", [lhs, rhs]) { g in
            [lhs.requiresGrad ? (g / rhs).summed(toShape: lhs.shape) : nil,
             rhs.requiresGrad ? (-g * lhs / (rhs * rhs)).summed(toShape: rhs.shape) : nil]
        }
    }

    /// self · scale + shift with broadcasting (`scale` and `shift` of one shape), in one pass: the
    /// per-channel affine step after a normalisation, where a product and a sum each went over
    /// memory. The values and the gradients are those of `self * scale + shift`.
    public func multipliedAdding(_ scale: Tensor, _ shift: Tensor) -> Tensor {
        require(scale.shape == shift.shape, "multipliedAdding: scale \(Shape.text(scale.shape)) and shift \(Shape.text(shift.shape)) differ")
        require(dtype == scale.dtype && dtype == shift.dtype, "multipliedAdding: dtypes differ, \(dtype), \(scale.dtype) and \(shift.dtype)")
        guard let outShape = Shape.broadcast(shape, scale.shape) else {
            fatalError("multipliedAdding: shapes \(Shape.text(shape)) and \(Shape.text(scale.shape)) do not broadcast")
        }
        let result = Tensor(uninitialized: outShape, dtype: dtype)
        let plan = StridedPlan(shape: outShape, firstStrides: Shape.broadcastStrides(shape, to: outShape),
                               secondStrides: Shape.broadcastStrides(scale.shape, to: outShape))
        func run<T: TensorScalar>(_: T.Type) {
            ElementwiseKernels.multiplyAdd(storage.buffer(T.self), scale.storage.buffer(T.self), shift.storage.buffer(T.self),
                                           result.storage.buffer(T.self), plan: plan)
        }
        dtype.select(float32: run(Float.self), float64: run(Double.self))
        return result.recorded("multiply-add", [self, scale, shift]) { g in
            [self.requiresGrad ? (g * scale).summed(toShape: self.shape) : nil,
             scale.requiresGrad ? g.summedProduct(self, toShape: scale.shape) : nil,
             shift.requiresGrad ? g.summed(toShape: shift.shape) : nil]
        }
    }

    /// Elementwise negation.
    public static prefix func - (x: Tensor) -> Tensor {
        x.mapped(.negate).recorded("negate", [x]) { g in [-g] }
    }

    // MARK: Scalars

    public static func + (lhs: Tensor, rhs: Double) -> Tensor {
        lhs.mapped(.shift(rhs)).recorded("add scalar", [lhs]) { g in [g] }
    }
    public static func + (lhs: Double, rhs: Tensor) -> Tensor { rhs + lhs }
    public static func - (lhs: Tensor, rhs: Double) -> Tensor { lhs + (-rhs) }
    public static func - (lhs: Double, rhs: Tensor) -> Tensor { -rhs + lhs }
    public static func * (lhs: Tensor, rhs: Double) -> Tensor {
        lhs.mapped(.scale(rhs)).recorded("multiply by scalar", [lhs]) { g in [g * rhs] }
    }
    public static func * (lhs: Double, rhs: Tensor) -> Tensor { rhs * lhs }
    public static func / (lhs: Tensor, rhs: Double) -> Tensor { lhs * (1 / rhs) }
    public static func / (lhs: Double, rhs: Tensor) -> Tensor { lhs * rhs.pow(-1) }

    /// Elementwise 1 where `self` equals `other` (broadcast), else 0; not differentiable.
    public func equalMask(_ other: Tensor) -> Tensor { combined(.equalMask, other, "equalMask") }
}
