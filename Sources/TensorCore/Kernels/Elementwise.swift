import RealModule

/// An elementwise function of one tensor. Parameterised cases carry their constant.
enum UnaryOp {
    case negate, exp, log, log1p, squareRoot, absoluteValue, sign, tanh, sigmoid, erf, relu
    /// x·sigmoid(x) in one pass.
    case silu
    /// 1 where x > 0, else 0: the derivative of ReLU.
    case positiveMask
    case leakyRelu(slope: Double)
    /// 1 where x > 0, else `slope`: the derivative of LeakyReLU.
    case leakyReluDerivative(slope: Double)
    case power(Double)
    case clamp(low: Double, high: Double)
    /// 1 where low ≤ x ≤ high, else 0: the derivative of clamp.
    case insideMask(low: Double, high: Double)
    case scale(Double)
    case shift(Double)
    /// 1 where x is the value, else 0.
    case equalMask(Double)
}

/// An elementwise function of two broadcast tensors.
enum BinaryOp {
    case add, subtract, multiply, divide
    /// 1 where the elements are equal, else 0.
    case equalMask
    /// g · relu′(x), 1 where x > 0 else 0, for upstream gradient g and input x: ReLU's backward in one pass.
    case reluGradient
    /// g · leakyRelu′(x), 1 where x > 0 else `slope`: LeakyReLU's backward in one pass.
    case leakyReluGradient(slope: Double)
    /// g · silu′(x) = g · σ(x)·(1 + x·(1 − σ(x))) for upstream gradient g and input x: SiLU's backward in one pass.
    case siluGradient
}

/// Elementwise kernels split their output into fixed chunks for the threads. Each chunk runs the
/// whole `switch` on the op, so that the op's closure is inlined into a loop the compiler can see
/// whole (and vectorise); a closure captured into the threads' task would be a call per element.
enum ElementwiseKernels {
    static func unary<T: TensorScalar>(_ op: UnaryOp, _ x: UnsafeMutableBufferPointer<T>, _ y: UnsafeMutableBufferPointer<T>) {
        Parallel.forEachChunk(of: x.count) { range in unary(op, x, y, range) }
    }

    /// `y = op(a, b)` with `a` and `b` read through broadcast strides; `y` is contiguous.
    static func binary<T: TensorScalar>(_ op: BinaryOp, _ a: UnsafeMutableBufferPointer<T>, _ b: UnsafeMutableBufferPointer<T>,
                                        _ y: UnsafeMutableBufferPointer<T>, plan: StridedPlan) {
        Parallel.forEachChunk(of: y.count) { elements in binary(op, a, b, y, plan, elements) }
    }

    /// `y = x · scale + shift`, `scale` and `shift` of one shape read through the same broadcast
    /// strides (`plan`'s second operand); the product is rounded before the sum, as two ops would.
    static func multiplyAdd<T: TensorScalar>(_ x: UnsafeMutableBufferPointer<T>, _ scale: UnsafeMutableBufferPointer<T>,
                                             _ shift: UnsafeMutableBufferPointer<T>, _ y: UnsafeMutableBufferPointer<T>,
                                             plan: StridedPlan) {
        Parallel.forEachChunk(of: y.count) { elements in multiplyAdd(x, scale, shift, y, plan, elements) }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func multiplyAdd<T: TensorScalar>(_ x: UnsafeMutableBufferPointer<T>, _ scale: UnsafeMutableBufferPointer<T>,
                                                     _ shift: UnsafeMutableBufferPointer<T>, _ y: UnsafeMutableBufferPointer<T>,
                                                     _ plan: StridedPlan, _ elements: Range<Int>) {
        let n = plan.rowLength, sx = plan.firstStep, sc = plan.secondStep
        let (px, pa, pb, py) = (x.baseAddress!, scale.baseAddress!, shift.baseAddress!, y.baseAddress!)
        plan.forEachSegment(of: elements) { row, columns, offsetX, offsetCoefficient in
            let (rx, ra, rb, ry) = (px + offsetX, pa + offsetCoefficient, pb + offsetCoefficient, py + row * n)
            if sx == 1 && sc == 0 {
                let (a, b) = (ra[0], rb[0])
                for i in columns { ry[i] = rx[i] * a + b }
            } else {
                for i in columns { ry[i] = rx[i * sx] * ra[i * sc] + rb[i * sc] }
            }
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func unary<T: TensorScalar>(_ op: UnaryOp, _ x: UnsafeMutableBufferPointer<T>, _ y: UnsafeMutableBufferPointer<T>,
                                               _ range: Range<Int>) {
        @inline(__always) func map(_ f: (T) -> T) { for i in range { y[i] = f(x[i]) } }
        if T.self == Float.self {
            // The float ops that need e^x, sixteen lanes at a time. Each function is written out at
            // its call so that it compiles into the loop: passed as a closure value, every vector
            // went through a call, split into four 128-bit quarters.
            let (xf, yf) = (UnsafeRawPointer(x.baseAddress!).assumingMemoryBound(to: Float.self),
                            UnsafeMutableRawPointer(y.baseAddress!).assumingMemoryBound(to: Float.self))
            switch op {
            case .exp: return VectorExp.map(xf, yf, range) { VectorExp.exp($0) }
            case .sigmoid: return VectorExp.map(xf, yf, range) { VectorExp.sigmoid($0) }
            case .silu: return VectorExp.map(xf, yf, range) { $0 * VectorExp.sigmoid($0) }
            default: break
            }
        }
        switch op {
        case .negate: map { -$0 }
        case .exp: map { T.exp($0) }
        case .log: map { T.log($0) }
        case .log1p: map { T.log(onePlus: $0) }
        case .squareRoot: map { $0.squareRoot() }
        case .absoluteValue: map { Swift.abs($0) }
        case .sign: map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
        case .tanh: map { T.tanh($0) }
        case .sigmoid: map(sigmoid)
        case .silu: map { $0 * sigmoid($0) }
        case .erf: map { T.erf($0) }
        case .relu: map { $0 > 0 ? $0 : 0 }
        case .positiveMask: map { $0 > 0 ? 1 : 0 }
        case .leakyRelu(let slope): let s = T(slope); map { $0 > 0 ? $0 : s * $0 }
        case .leakyReluDerivative(let slope): let s = T(slope); map { $0 > 0 ? 1 : s }
        case .power(let p):
            // Integer powers are defined for negative x too; x^p for real p needs x ≥ 0.
            if p == 2 { map { $0 * $0 } } else if p == 1 { map { $0 } } else if p == p.rounded(), Swift.abs(p) < 1e9 {
                let n = Int(p); map { T.pow($0, n) }
            } else {
                let e = T(p); map { T.pow($0, e) }
            }
        case .clamp(let low, let high): let lo = T(low), hi = T(high); map { Swift.min(Swift.max($0, lo), hi) }
        case .insideMask(let low, let high): let lo = T(low), hi = T(high); map { $0 >= lo && $0 <= hi ? 1 : 0 }
        case .scale(let c): let k = T(c); map { $0 * k }
        case .shift(let c): let k = T(c); map { $0 + k }
        case .equalMask(let v): let k = T(v); map { $0 == k ? 1 : 0 }
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func binary<T: TensorScalar>(_ op: BinaryOp, _ a: UnsafeMutableBufferPointer<T>, _ b: UnsafeMutableBufferPointer<T>,
                                                _ y: UnsafeMutableBufferPointer<T>, _ plan: StridedPlan, _ elements: Range<Int>) {
        switch op {
        case .add: run(a, b, y, plan, elements, Sum())
        case .subtract: run(a, b, y, plan, elements, Difference())
        case .multiply: run(a, b, y, plan, elements, Product())
        case .divide: run(a, b, y, plan, elements, Quotient())
        case .equalMask: run(a, b, y, plan, elements, Equality())
        case .reluGradient: run(a, b, y, plan, elements, ReluGradient())
        case .leakyReluGradient(let slope): run(a, b, y, plan, elements, LeakyReluGradient(slope: T(slope)))
        case .siluGradient:
            if T.self == Float.self && plan.firstStep == 1 && plan.secondStep == 1 {
                return runVector(a, b, y, plan, elements) { g, x in let s = VectorExp.sigmoid(x); return g * s * (1 + x * (1 - s)) }
            }
            run(a, b, y, plan, elements, SiluGradient())
        }
    }

    /// `y = f(a, b)` over the broadcast rows of `plan`. The function is a type rather than a
    /// closure, so that `run` is specialised for each and the function compiles into its loops; a
    /// closure value that the optimiser did not specialise was called once per element.
    @inline(__always)
    private static func run<F: PairFunction>(_ a: UnsafeMutableBufferPointer<F.Scalar>, _ b: UnsafeMutableBufferPointer<F.Scalar>,
                                             _ y: UnsafeMutableBufferPointer<F.Scalar>, _ plan: StridedPlan, _ elements: Range<Int>,
                                             _ f: F) {
        let n = plan.rowLength, sa = plan.firstStep, sb = plan.secondStep
        let pa = a.baseAddress!, pb = b.baseAddress!, py = y.baseAddress!
        plan.forEachSegment(of: elements) { row, columns, offsetA, offsetB in
            let ra = pa + offsetA, rb = pb + offsetB, ry = py + row * n
            if sa == 1 && sb == 1 {
                for i in columns { ry[i] = f(ra[i], rb[i]) }
            } else if sa == 1 && sb == 0 {
                let vb = rb[0]
                for i in columns { ry[i] = f(ra[i], vb) }
            } else if sa == 0 && sb == 1 {
                let va = ra[0]
                for i in columns { ry[i] = f(va, rb[i]) }
            } else {
                for i in columns { ry[i] = f(ra[i * sa], rb[i * sb]) }
            }
        }
    }

    /// `run` for float operands that are both contiguous along rows, sixteen lanes at a time.
    @inline(__always)
    private static func runVector<T: TensorScalar>(_ a: UnsafeMutableBufferPointer<T>, _ b: UnsafeMutableBufferPointer<T>,
                                                   _ y: UnsafeMutableBufferPointer<T>, _ plan: StridedPlan, _ elements: Range<Int>,
                                                   _ f: (SIMD16<Float>, SIMD16<Float>) -> SIMD16<Float>) {
        let pa = UnsafeRawPointer(a.baseAddress!).assumingMemoryBound(to: Float.self)
        let pb = UnsafeRawPointer(b.baseAddress!).assumingMemoryBound(to: Float.self)
        let py = UnsafeMutableRawPointer(y.baseAddress!).assumingMemoryBound(to: Float.self)
        let n = plan.rowLength
        plan.forEachSegment(of: elements) { row, columns, offsetA, offsetB in
            VectorExp.map(pa + offsetA + columns.lowerBound, pb + offsetB + columns.lowerBound, py + row * n + columns.lowerBound,
                          0..<columns.count, f)
        }
    }

    /// The logistic function from one exp of −|x| ≤ 0, which cannot overflow.
    @inline(__always)
    fileprivate static func sigmoid<T: TensorScalar>(_ x: T) -> T {
        let e = T.exp(-Swift.abs(x))
        return x >= 0 ? 1 / (1 + e) : e / (1 + e)
    }
}

/// A function of two elements, for `ElementwiseKernels.run`.
private protocol PairFunction {
    associatedtype Scalar: TensorScalar
    func callAsFunction(_ a: Scalar, _ b: Scalar) -> Scalar
}

private struct Sum<Scalar: TensorScalar>: PairFunction {
    @inline(__always) func callAsFunction(_ a: Scalar, _ b: Scalar) -> Scalar { a + b }
}
private struct Difference<Scalar: TensorScalar>: PairFunction {
    @inline(__always) func callAsFunction(_ a: Scalar, _ b: Scalar) -> Scalar { a - b }
}
private struct Product<Scalar: TensorScalar>: PairFunction {
    @inline(__always) func callAsFunction(_ a: Scalar, _ b: Scalar) -> Scalar { a * b }
}
private struct Quotient<Scalar: TensorScalar>: PairFunction {
    @inline(__always) func callAsFunction(_ a: Scalar, _ b: Scalar) -> Scalar { a / b }
}
/// 1 where the elements are equal, else 0.
private struct Equality<Scalar: TensorScalar>: PairFunction {
    @inline(__always) func callAsFunction(_ a: Scalar, _ b: Scalar) -> Scalar { a == b ? 1 : 0 }
}
/// g · relu′(x): the upstream gradient times 1 where x > 0, else 0.
private struct ReluGradient<Scalar: TensorScalar>: PairFunction {
    @inline(__always) func callAsFunction(_ g: Scalar, _ x: Scalar) -> Scalar { g * (x > 0 ? 1 : 0) }
}
/// g · leakyRelu′(x): the upstream gradient times 1 where x > 0, else the slope.
private struct LeakyReluGradient<Scalar: TensorScalar>: PairFunction {
    let slope: Scalar
    @inline(__always) func callAsFunction(_ g: Scalar, _ x: Scalar) -> Scalar { g * (x > 0 ? 1 : slope) }
}
/// g · silu′(x) = g · σ(x)·(1 + x·(1 − σ(x))).
private struct SiluGradient<Scalar: TensorScalar>: PairFunction {
    @inline(__always) func callAsFunction(_ g: Scalar, _ x: Scalar) -> Scalar {
        let s = ElementwiseKernels.sigmoid(x)
        return g * s * (1 + x * (1 - s))
    }
}
