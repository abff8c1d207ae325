import RealModule

/// A seeded pseudo-random generator: xoshiro256** seeded through SplitMix64.
///
/// Everything random in the library draws from one of these, so that the same seed gives the same
/// numbers — and the same trained model — run after run. Its `state` can be saved in a checkpoint.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    /// The four words of xoshiro256** state.
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose stream is determined by `seed`.
    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    /// Restores a generator from a saved `state`.
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        require(state != (0, 0, 0, 0), "RandomGenerator: the all-zero state is invalid")
        self.state = state
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal sample by the Box–Muller transform (one of the pair is used, so that
    /// the stream does not depend on how many samples a caller draws at once).
    public mutating func nextNormal() -> Double {
        let u1 = 1 - nextUniform()   // (0, 1]: log stays finite
        let u2 = nextUniform()
        return (-2 * Double.log(u1)).squareRoot() * Double.cos(2 * Double.pi * u2)
    }

    /// A uniform integer in 0..<bound, without modulo bias (Lemire's method).
    public mutating func nextInt(below bound: Int) -> Int {
        require(bound > 0, "nextInt(below:): bound must be positive, got \(bound)")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    /// The numbers 0..<count in a uniformly random order (Fisher–Yates).
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) {
            order.swapAt(i, nextInt(below: i + 1))
        }
        return order
    }
}
