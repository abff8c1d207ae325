// MARK: - Constant tensors

extension Tensor {
    /// A tensor of zeros.
    public static func zeros(_ shape: [Int], dtype: DType = .float32) -> Tensor {
        full(shape, value: 0, dtype: dtype)
    }

    /// A tensor of ones.
    public static func ones(_ shape: [Int], dtype: DType = .float32) -> Tensor {
        full(shape, value: 1, dtype: dtype)
    }

    /// A tensor with every element equal to `value`.
    public static func full(_ shape: [Int], value: Double, dtype: DType = .float32) -> Tensor {
        let result = Tensor(uninitialized: shape, dtype: dtype)
        func run<T: TensorScalar>(_: T.Type) { result.storage.buffer(T.self).update(repeating: T(value)) }
        dtype.select(float32: run(Float.self), float64: run(Double.self))
        return result
    }

    /// A tensor shaped like `self` filled with `value`.
    public func filled(with value: Double) -> Tensor { Tensor.full(shape, value: value, dtype: dtype) }

    /// `start, start + step, …` up to but excluding `end`, as NumPy's `arange`.
    public static func arange(_ start: Double = 0, _ end: Double, step: Double = 1, dtype: DType = .float32) -> Tensor {
        require(step != 0, "arange: step must not be zero")
        let count = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor((0..<count).map { start + Double($0) * step }, shape: [count], dtype: dtype)
    }

    // MARK: - Random tensors

    /// Samples from the standard normal distribution (`torch.randn`), scaled and shifted.
    public static func randomNormal(_ shape: [Int], mean: Double = 0, standardDeviation: Double = 1,
                                    dtype: DType = .float32, using generator: inout RandomGenerator) -> Tensor {
        let values = (0..<Shape.count(shape)).map { _ in mean + standardDeviation * generator.nextNormal() }
        return Tensor(values, shape: shape, dtype: dtype)
    }

    /// Samples uniformly from [low, high) (`torch.rand` when low = 0, high = 1).
    public static func randomUniform(_ shape: [Int], low: Double = 0, high: Double = 1,
                                     dtype: DType = .float32, using generator: inout RandomGenerator) -> Tensor {
        let values = (0..<Shape.count(shape)).map { _ in low + (high - low) * generator.nextUniform() }
        return Tensor(values, shape: shape, dtype: dtype)
    }

    /// Ones with probability `probability`, zeros otherwise (dropout masks, label dropout).
    public static func randomBernoulli(_ shape: [Int], probability: Double, dtype: DType = .float32,
                                       using generator: inout RandomGenerator) -> Tensor {
        let values = (0..<Shape.count(shape)).map { _ in generator.nextUniform() < probability ? 1.0 : 0.0 }
        return Tensor(values, shape: shape, dtype: dtype)
    }
}
