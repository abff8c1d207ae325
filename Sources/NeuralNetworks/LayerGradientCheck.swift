/// Checks a layer's gradients with respect to its input and every parameter against central
/// differences (see `gradientCheck`). Build the layer with `dtype: .float64`.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let layer = Linear(inputCount: 3, outputCount: 2, dtype: .float64, using: &rng)
/// print(gradientCheck(layer, input: Tensor.randomNormal([4, 3], dtype: .float64, using: &rng)))
/// ```
public func gradientCheck(_ layer: some Layer, input: Tensor, epsilon: Double = 1e-6,
                          absoluteTolerance: Double = 1e-5, relativeTolerance: Double = 1e-3) -> GradientCheckReport {
    let leaf = input.copy()
    leaf.requiresGrad = true
    return gradientCheck(inPlace: [leaf] + layer.parameters, epsilon: epsilon, absoluteTolerance: absoluteTolerance,
                         relativeTolerance: relativeTolerance) { layer(leaf) }
}
