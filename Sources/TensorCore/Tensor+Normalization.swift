// MARK: - Normalisation

extension Tensor {
    /// Group normalisation without the affine part: for `[N, C, …]` with the channels split into
    /// `groupCount` groups, each sample's group is shifted to mean 0 and scaled by
    /// 1 / √(variance + `epsilon`) (the biased variance, as PyTorch's `GroupNorm`).
    ///
    /// One fused kernel each way: spelled in tensor ops it takes ~9 ops forward and more backward,
    /// each allocating and passing over the whole activation, and in a small U-Net that memory
    /// traffic cost more than the convolutions around it.
    public func groupNormalized(groupCount: Int, epsilon: Double = 1e-5) -> Tensor {
        require(rank >= 2 && groupCount > 0 && shape[1] % groupCount == 0,
                "groupNormalized: expected [N, C, …] with C divisible by \(groupCount) groups, got \(Shape.text(shape))")
        let rowLength = shape[1] / groupCount * shape.dropFirst(2).reduce(1, *)
        let result = Tensor(uninitialized: shape, dtype: dtype)
        let inverseDeviations = Tensor(uninitialized: [shape[0], groupCount], dtype: dtype)
        switch dtype {
        case .float32:
            NormalizationKernels.normalize(storage.buffer(Float.self), rowLength: rowLength, epsilon: epsilon,
                                           result.storage.buffer(Float.self), inverseDeviations: inverseDeviations.storage.buffer(Float.self))
        case .float64:
            NormalizationKernels.normalize(storage.buffer(Double.self), rowLength: rowLength, epsilon: epsilon,
                                           result.storage.buffer(Double.self), inverseDeviations: inverseDeviations.storage.buffer(Double.self))
        }
        // The backward reads x̂ through a view sharing its storage: capturing `result` itself would
        // make a cycle through its own gradient function and leak the graph.
        let normalized = result.detached()
        return result.recorded("groupNormalized", [self]) { g in
            // Under createGraph the gradient must itself be differentiable, which the kernel is not.
            if GradMode.isEnabled { return [self.groupNormalizedGradientInTensorOps(g, groupCount: groupCount, epsilon: epsilon)] }
            let dx = Tensor(uninitialized: g.shape, dtype: g.dtype)
            switch g.dtype {
            case .float32:
                NormalizationKernels.normalizeBackward(g.storage.buffer(Float.self), normalized: normalized.storage.buffer(Float.self),
                                                       inverseDeviations: inverseDeviations.storage.buffer(Float.self),
                                                       rowLength: rowLength, dx.storage.buffer(Float.self))
            case .float64:
                NormalizationKernels.normalizeBackward(g.storage.buffer(Double.self), normalized: normalized.storage.buffer(Double.self),
                                                       inverseDeviations: inverseDeviations.storage.buffer(Double.self),
                                                       rowLength: rowLength, dx.storage.buffer(Double.self))
            }
            return [dx]
        }
    }

    /// The fused backward's formula, dx = (1 / √(variance + ε)) · (g − mean(g) − x̂ · mean(g · x̂)) per
    /// group, recomputed from `self` in recorded ops so that gradients of gradients flow through it.
    private func groupNormalizedGradientInTensorOps(_ g: Tensor, groupCount: Int, epsilon: Double) -> Tensor {
        let grouped = reshaped([shape[0], groupCount, -1]), upstream = g.reshaped([shape[0], groupCount, -1])
        let centred = grouped - grouped.mean(alongAxes: [2], keepingDimensions: true)
        let inverseDeviation = 1 / ((centred * centred).mean(alongAxes: [2], keepingDimensions: true) + epsilon).sqrt()
        let normalized = centred * inverseDeviation
        let dx = inverseDeviation * (upstream - upstream.mean(alongAxes: [2], keepingDimensions: true)
                                     - normalized * (upstream * normalized).mean(alongAxes: [2], keepingDimensions: true))
        return dx.reshaped(shape)
    }
}
