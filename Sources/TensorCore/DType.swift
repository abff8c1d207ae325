import RealModule

/// The element type of a tensor. float32 is what models train in; float64 exists so that
/// numerical gradient checks are exact enough to mean something.
public enum DType: String, Sendable, CustomStringConvertible {
    case float32, float64

    /// Bytes per element.
    public var byteCount: Int { self == .float32 ? 4 : 8 }

    public var description: String { rawValue }
}

extension DType {
    /// `float32()` for a float32 tensor, `float64()` for a float64 one: the only `switch` on a dtype.
    ///
    /// Swift has no generic closures, and a generic function called through an opened existential
    /// metatype is not specialised (measured: about 100× slower). So each call site writes its body
    /// once, as a local generic function, and names both specialisations:
    ///
    ///     func run<T: TensorScalar>(_: T.Type) { … }
    ///     dtype.select(float32: run(Float.self), float64: run(Double.self))
    @inlinable @inline(__always)
    public func select<Result>(float32: @autoclosure () -> Result, float64: @autoclosure () -> Result) -> Result {
        switch self {
        case .float32: return float32()
        case .float64: return float64()
        }
    }
}

/// The scalar types a tensor can hold: `Float` and `Double`.
///
/// Kernels are written once, generically over this protocol, and run for either dtype.
public protocol TensorScalar: Real, BinaryFloatingPoint, SIMDScalar, Codable, Sendable {
    /// The dtype tag of this Swift type.
    static var dtype: DType { get }
}

extension Float: TensorScalar {
    public static var dtype: DType { .float32 }
}

extension Double: TensorScalar {
    public static var dtype: DType { .float64 }
}
