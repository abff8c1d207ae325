import RealModule

/// The element type of a tensor. float32 is what models train in; float64 exists so that
/// numerical gradient checks are exact enough to mean something.
public enum DType: String, Sendable, CustomStringConvertible {
    case float32, float64

    /// Bytes per element.
    public var byteCount: Int { self == .float32 ? 4 : 8 }

    public var description: String { rawValue }
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
