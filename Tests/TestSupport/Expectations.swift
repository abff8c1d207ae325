import Testing
import TensorCore

// Helpers the test targets share: seeded random tensors and the expectations of gradient checks.

/// A float64 tensor of N(0, 1) samples, for gradient checks.
public func randomDouble(_ shape: [Int], seed: UInt64, scale: Double = 1, shift: Double = 0) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    return Tensor.randomNormal(shape, mean: shift, standardDeviation: scale, dtype: .float64, using: &generator)
}

/// A float32 tensor of N(0, 1) samples.
public func randomFloat(_ shape: [Int], seed: UInt64) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    return Tensor.randomNormal(shape, using: &generator)
}

/// Asserts that autograd agrees with central differences at gradcheck's tolerances.
public func expectGradients(_ inputs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation,
                            _ function: @escaping ([Tensor]) -> Tensor) {
    let report = gradientCheck(inputs, function)
    #expect(report.passed, "\(report)", sourceLocation: sourceLocation)
    #expect(report.comparisons > 0, sourceLocation: sourceLocation)
}

/// Asserts that second derivatives agree too (gradgradcheck).
public func expectSecondOrderGradients(_ inputs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation,
                                       _ function: @escaping ([Tensor]) -> Tensor) {
    let report = secondOrderGradientCheck(inputs, function)
    #expect(report.passed, "\(report)", sourceLocation: sourceLocation)
}

/// Asserts elementwise closeness.
public func expectClose(_ actual: [Double], _ expected: [Double], tolerance: Double = 1e-6,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
    for (i, (a, e)) in zip(actual, expected).enumerated() where !(Swift.abs(a - e) <= tolerance * Swift.max(1, Swift.abs(e))) {
        Issue.record("element \(i): \(a), expected \(e)", sourceLocation: sourceLocation)
        return
    }
}
