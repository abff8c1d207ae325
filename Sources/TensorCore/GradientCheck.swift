/// The result of comparing autograd's gradients with numerical ones.
public struct GradientCheckReport: CustomStringConvertible {
    /// Whether every entry agreed within tolerance.
    public let passed: Bool
    /// The largest |analytic − numeric| seen, and where: (input index, element index).
    public let worstError: Double
    public let worstLocation: (input: Int, element: Int)
    public let analyticAtWorst: Double, numericAtWorst: Double
    /// How many Jacobian entries were compared.
    public let comparisons: Int

    public var description: String {
        let verdict = passed ? "passed" : "FAILED"
        return "gradient check \(verdict): \(comparisons) Jacobian entries, worst |analytic − numeric| = \(worstError) "
            + "at input \(worstLocation.input) element \(worstLocation.element) (analytic \(analyticAtWorst), numeric \(numericAtWorst))"
    }
}

/// Checks autograd against central differences, as `torch.autograd.gradcheck` does.
///
/// `function` maps the `inputs` (float64 tensors) to an output of any shape. For every output
/// element the analytic Jacobian row comes from `gradients(withRespectTo:)` with a one-hot upstream
/// gradient; every input element is nudged by ±`epsilon` for the numeric column. An entry passes when
/// |analytic − numeric| ≤ `absoluteTolerance` + `relativeTolerance`·|numeric|.
///
/// ```swift
/// let x = Tensor.randomNormal([2, 3], dtype: .float64, using: &rng)
/// let report = gradientCheck([x]) { inputs in inputs[0].tanh() * inputs[0] }
/// assert(report.passed, "\(report)")
/// ```
public func gradientCheck(_ inputs: [Tensor], epsilon: Double = 1e-6, absoluteTolerance: Double = 1e-5,
                          relativeTolerance: Double = 1e-3, _ function: ([Tensor]) -> Tensor) -> GradientCheckReport {
    let leaves = inputs.map { input -> Tensor in
        let leaf = input.copy()
        leaf.requiresGrad = true
        return leaf
    }
    return gradientCheck(inPlace: leaves, epsilon: epsilon, absoluteTolerance: absoluteTolerance,
                         relativeTolerance: relativeTolerance) { function(leaves) }
}

/// The same check for tensors that `evaluate` reads where they are — a layer's own parameters, say.
/// The tensors must be float64 leaves that require gradients; they are nudged in place and restored.
public func gradientCheck(inPlace tensors: [Tensor], epsilon: Double = 1e-6, absoluteTolerance: Double = 1e-5,
                          relativeTolerance: Double = 1e-3, evaluate: () -> Tensor) -> GradientCheckReport {
    require(tensors.allSatisfy { $0.dtype == .float64 }, "gradientCheck: tensors must be float64 so that differences are exact")
    require(tensors.allSatisfy { $0.requiresGrad && $0.gradientFunction == nil }, "gradientCheck: tensors must be leaves that require gradients")
    // Analytic Jacobian, one output element (one row) at a time.
    let output = evaluate()
    let width = tensors.reduce(0) { $0 + $1.count }
    var analytic = [[Double]](repeating: [], count: output.count)    // [outputElement][flattened tensors]
    for row in 0..<output.count {
        let upstream = Tensor.zeros(output.shape, dtype: .float64)
        upstream.assignElement(1, at: row)
        analytic[row] = output.requiresGrad
            ? output.gradients(withRespectTo: tensors, upstream: upstream).flatMap(\.doubles)
            : [Double](repeating: 0, count: width)
    }
    // Numeric Jacobian, one input element (one column) at a time.
    var worst = (error: -1.0, input: 0, element: 0, analytic: 0.0, numeric: 0.0)
    var passed = true, column = 0, comparisons = 0
    withoutGradients {
        for (inputIndex, tensor) in tensors.enumerated() {
            let originals = tensor.doubles
            for element in 0..<tensor.count {
                let original = originals[element]
                tensor.assignElement(original + epsilon, at: element)
                let plus = evaluate().doubles
                tensor.assignElement(original - epsilon, at: element)
                let minus = evaluate().doubles
                tensor.assignElement(original, at: element)
                for row in 0..<output.count {
                    let numeric = (plus[row] - minus[row]) / (2 * epsilon)
                    let error = Swift.abs(analytic[row][column] - numeric)
                    comparisons += 1
                    if !(error <= absoluteTolerance + relativeTolerance * Swift.abs(numeric)) { passed = false }
                    if error > worst.error || error.isNaN { worst = (error, inputIndex, element, analytic[row][column], numeric) }
                }
                column += 1
            }
        }
    }
    return GradientCheckReport(passed: passed, worstError: Swift.max(worst.error, 0), worstLocation: (worst.input, worst.element),
                               analyticAtWorst: worst.analytic, numericAtWorst: worst.numeric, comparisons: comparisons)
}

/// Checks second derivatives (PyTorch's `gradgradcheck`): the gradient of ⟨function(inputs), v⟩
/// with respect to the inputs, computed with `createGraph: true`, must itself pass `gradientCheck`.
/// `v` is a fixed random upstream gradient drawn from `seed`.
public func secondOrderGradientCheck(_ inputs: [Tensor], seed: UInt64 = 0, epsilon: Double = 1e-6,
                                     absoluteTolerance: Double = 1e-5, relativeTolerance: Double = 1e-3,
                                     _ function: @escaping ([Tensor]) -> Tensor) -> GradientCheckReport {
    var generator = RandomGenerator(seed: seed)
    let outputShape = withoutGradients { function(inputs.map { $0.copy() }).shape }
    let upstream = Tensor.randomNormal(outputShape, dtype: .float64, using: &generator)
    return gradientCheck(inputs, epsilon: epsilon, absoluteTolerance: absoluteTolerance, relativeTolerance: relativeTolerance) { xs in
        // Recorded when the outer check differentiates this (its analytic pass), plain otherwise.
        let createGraph = GradMode.isEnabled
        return GradMode.$isEnabled.withValue(true) {
            let leaves = xs.map { x -> Tensor in
                if x.requiresGrad { return x }
                let leaf = x.detached()
                leaf.requiresGrad = true
                return leaf
            }
            let gradients = function(leaves).gradients(withRespectTo: leaves, upstream: upstream, createGraph: createGraph)
            return Tensor.concatenate(gradients.map { $0.flattened() }, alongAxis: 0)
        }
    }
}
