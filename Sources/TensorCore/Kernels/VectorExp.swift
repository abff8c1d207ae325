/// e^x for sixteen floats at once, so that the kernels of exp, sigmoid and SiLU run as vector loops
/// instead of a library call per element.
///
/// Range reduction as in Cephes' `expf`: x = n·ln 2 + r with n = round(x / ln 2) and |r| ≤ ln 2 / 2
/// (ln 2 split in two constants so that r is accurate), e^r = 1 + r + r²·P(r) with Cephes' minimax
/// polynomial P of degree 5, and 2ⁿ put straight into the exponent bits. Within 2 ulp of the
/// correctly rounded value (tested against Double); +∞ above ln(Float.greatestFiniteMagnitude),
/// 0 below −87.34 (where the result would be subnormal), NaN for NaN.
enum VectorExp {
    typealias Vector = SIMD16<Float>

    static let largest: Float = 88.72283                 // ln(greatest finite float)
    static let smallest: Float = -87.33654                // ln(least normal float)

    @inline(__always)
    static func exp(_ x: Vector) -> Vector {
        let (below, above) = (negative(x - smallest), negative(largest - x))
        let clamped = select(above, Vector(repeating: largest), select(below, Vector(repeating: smallest), x))
        // n = round(x / ln 2) in −126…128: adding 1.5·2²³ rounds to an integer and leaves it in
        // the low bits of the sum (generic float-to-integer conversions are a call per lane).
        let shifted = clamped * 1.442695040888963 + 12_582_912                     // x·log₂e + 1.5·2²³
        let n = shifted - 12_582_912
        let r = clamped.addingProduct(n, -0.693359375).addingProduct(n, 2.12194440e-4)  // x − n·ln 2, ln 2 in two parts
        var p = Vector(repeating: 1.9875691500e-4)
        p = Vector(repeating: 1.3981999507e-3).addingProduct(p, r)
        p = Vector(repeating: 8.3334519073e-3).addingProduct(p, r)
        p = Vector(repeating: 4.1665795894e-2).addingProduct(p, r)
        p = Vector(repeating: 1.6666665459e-1).addingProduct(p, r)
        p = Vector(repeating: 5.0000001201e-1).addingProduct(p, r)
        p = (r + 1).addingProduct(p, r * r)                                          // e^r = 1 + r + r²·P(r)
        // 2ⁿ as two powers of two put into exponent bits, each a normal float for every n here.
        let whole = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000, half = whole &>> 1
        let low = unsafeBitCast((half &+ 127) &<< 23, to: Vector.self)
        let high = unsafeBitCast((whole &- half &+ 127) &<< 23, to: Vector.self)
        var result = p * low * high
        result = select(above, Vector(repeating: .infinity), select(below, Vector(), result))
        // NaN: magnitude bits above those of +∞ (the lanes of `below` and `above` are arbitrary there).
        return select((0x7F80_0000 &- (bits(x) & 0x7FFF_FFFF)) &>> 31, Vector(repeating: .nan), result)
    }

    /// σ(x) = 1 / (1 + e^−x), from e^−|x| ≤ 1, which cannot overflow.
    @inline(__always)
    static func sigmoid(_ x: Vector) -> Vector {
        let e = exp(-abs(x))
        let reciprocal = 1 / (1 + e)
        return select(negative(x), e * reciprocal, reciprocal)
    }

    // Lane masks (all ones or all zeros) from sign bits, and selections by them, as integer bit
    // operations: the standard library's comparisons and `replacing(with:where:)` are loops over
    // lanes, which the compiler split into 128-bit pieces, and e^x ran at a quarter of its width.

    /// |x|: the sign bit cleared.
    @inline(__always)
    private static func abs(_ x: Vector) -> Vector { unsafeBitCast(bits(x) & 0x7FFF_FFFF, to: Vector.self) }

    /// All ones where the sign bit of x is set: x < 0, or −0; for a difference a − b of numbers,
    /// exactly where a < b (a difference of equal numbers is +0).
    @inline(__always)
    private static func negative(_ x: Vector) -> SIMD16<Int32> { bits(x) &>> 31 }

    /// `a` where `mask` is all ones, `b` where it is zero.
    @inline(__always)
    private static func select(_ mask: SIMD16<Int32>, _ a: Vector, _ b: Vector) -> Vector {
        unsafeBitCast((bits(a) & mask) | (bits(b) & ~mask), to: Vector.self)
    }

    @inline(__always)
    private static func bits(_ x: Vector) -> SIMD16<Int32> { unsafeBitCast(x, to: SIMD16<Int32>.self) }

    /// `y[i] = f(x[i])` over `range`, sixteen at a time; the last partial vector is padded with
    /// zeros, so every element goes through the same instructions wherever a chunk boundary falls.
    @inline(__always)
    static func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ range: Range<Int>, _ f: (Vector) -> Vector) {
        var i = range.lowerBound
        while i + Vector.scalarCount <= range.upperBound {
            let value = UnsafeRawPointer(x + i).loadUnaligned(as: Vector.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: f(value), as: Vector.self)
            i += Vector.scalarCount
        }
        guard i < range.upperBound else { return }
        var tail = Vector()
        for lane in 0..<(range.upperBound - i) { tail[lane] = x[i + lane] }
        let result = f(tail)
        for lane in 0..<(range.upperBound - i) { y[i + lane] = result[lane] }
    }

    /// `y[i] = f(a[i], b[i])` over `range` for contiguous a and b, as `map`.
    @inline(__always)
    static func map(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ range: Range<Int>,
                    _ f: (Vector, Vector) -> Vector) {
        var i = range.lowerBound
        while i + Vector.scalarCount <= range.upperBound {
            let (u, v) = (UnsafeRawPointer(a + i).loadUnaligned(as: Vector.self), UnsafeRawPointer(b + i).loadUnaligned(as: Vector.self))
            UnsafeMutableRawPointer(y + i).storeBytes(of: f(u, v), as: Vector.self)
            i += Vector.scalarCount
        }
        guard i < range.upperBound else { return }
        var (u, v) = (Vector(), Vector())
        for lane in 0..<(range.upperBound - i) { (u[lane], v[lane]) = (a[i + lane], b[i + lane]) }
        let result = f(u, v)
        for lane in 0..<(range.upperBound - i) { y[i + lane] = result[lane] }
    }
}
