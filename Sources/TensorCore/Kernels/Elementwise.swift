import RealModule

/// An elementwise function of one tensor. Parameterised cases carry their constant.
enum UnaryOp {
    case negate, exp, log, log1p, squareRoot, absoluteValue, sign, tanh, sigmoid, erf, relu
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
}

enum ElementwiseKernels {
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func unary<T: TensorScalar>(_ op: UnaryOp, _ x: UnsafeMutableBufferPointer<T>, _ y: UnsafeMutableBufferPointer<T>) {
        let n = x.count
        @inline(__always) func map(_ f: (T) -> T) { for i in 0..<n { y[i] = f(x[i]) } }
        switch op {
        case .negate: map { -$0 }
        case .exp: map { T.exp($0) }
        case .log: map { T.log($0) }
        case .log1p: map { T.log(onePlus: $0) }
        case .squareRoot: map { $0.squareRoot() }
        case .absoluteValue: map { Swift.abs($0) }
        case .sign: map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
        case .tanh: map { T.tanh($0) }
        case .sigmoid:
            // Two branches keep exp's argument ≤ 0, so neither overflows.
            map { $0 >= 0 ? 1 / (1 + T.exp(-$0)) : T.exp($0) / (1 + T.exp($0)) }
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

    /// `y = op(a, b)` with `a` and `b` read through broadcast strides; `y` is contiguous.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func binary<T: TensorScalar>(_ op: BinaryOp, _ a: UnsafeMutableBufferPointer<T>, _ b: UnsafeMutableBufferPointer<T>,
                                        _ y: UnsafeMutableBufferPointer<T>, plan: StridedPlan) {
        switch op {
        case .add: run(a, b, y, plan) { $0 + $1 }
        case .subtract: run(a, b, y, plan) { $0 - $1 }
        case .multiply: run(a, b, y, plan) { $0 * $1 }
        case .divide: run(a, b, y, plan) { $0 / $1 }
        case .equalMask: run(a, b, y, plan) { $0 == $1 ? 1 : 0 }
        }
    }

    @inline(__always)
    private static func run<T: TensorScalar>(_ a: UnsafeMutableBufferPointer<T>, _ b: UnsafeMutableBufferPointer<T>,
                                             _ y: UnsafeMutableBufferPointer<T>, _ plan: StridedPlan, _ f: (T, T) -> T) {
        let n = plan.rowLength, sa = plan.firstStep, sb = plan.secondStep
        let pa = a.baseAddress!, pb = b.baseAddress!, py = y.baseAddress!
        plan.forEachRow { row, offsetA, offsetB in
            let ra = pa + offsetA, rb = pb + offsetB, ry = py + row * n
            if sa == 1 && sb == 1 {
                for i in 0..<n { ry[i] = f(ra[i], rb[i]) }
            } else if sa == 1 && sb == 0 {
                let vb = rb[0]
                for i in 0..<n { ry[i] = f(ra[i], vb) }
            } else if sa == 0 && sb == 1 {
                let va = ra[0]
                for i in 0..<n { ry[i] = f(va, rb[i]) }
            } else {
                for i in 0..<n { ry[i] = f(ra[i * sa], rb[i * sb]) }
            }
        }
    }
}
