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
        return normalized("groupNormalized", .contiguous(count: shape[0] * groupCount, rowLength: rowLength), epsilon: epsilon,
                          compositeShape: [shape[0], groupCount, rowLength], compositeAxes: [2]).normalized
    }

    /// Batch normalisation without the affine part, with batch statistics: for `[N, C, H, W]`, each
    /// channel is shifted to mean 0 and scaled by 1 / √(variance + `epsilon`) over all N·H·W of its
    /// values (the biased variance, as PyTorch's `BatchNorm2d` in training). Also returns each
    /// channel's mean and biased variance `[C]`, for the running statistics. Fused as `groupNormalized`.
    public func batchNormalized(epsilon: Double = 1e-5) -> (normalized: Tensor, mean: Tensor, variance: Tensor) {
        require(rank == 4, "batchNormalized: expected [N, C, H, W], got \(Shape.text(shape))")
        let (n, c, plane) = (shape[0], shape[1], shape[2] * shape[3])
        let rows = NormalizationRows(count: c, rowStride: plane, segments: n, segmentLength: plane, segmentStride: c * plane)
        let result = normalized("batchNormalized", rows, epsilon: epsilon, compositeShape: [n, c, plane], compositeAxes: [0, 2])
        let moments = result.moments.reshaped([c, 2])
        return (result.normalized, moments.slice(0..<1, alongAxis: 1).reshaped([c]), moments.slice(1..<2, alongAxis: 1).reshaped([c]))
    }

    /// x̂ over `rows`, recorded with the fused backward; and the rows' means and variances, `[rows, 2]`.
    /// Under `createGraph` the backward is `compositeGradient` on the tensor reshaped to
    /// `compositeShape`, with each row's values along `compositeAxes`.
    private func normalized(_ name: String, _ rows: NormalizationRows, epsilon: Double,
                            compositeShape: [Int], compositeAxes: [Int]) -> (normalized: Tensor, moments: Tensor) {
        let result = Tensor(uninitialized: shape, dtype: dtype)
        let inverseDeviations = Tensor(uninitialized: [rows.count], dtype: dtype)
        let moments = Tensor(uninitialized: [rows.count, 2], dtype: dtype)
        func forward<T: TensorScalar>(_: T.Type) {
            NormalizationKernels.normalize(storage.buffer(T.self), rows, epsilon: epsilon, result.storage.buffer(T.self),
                                           inverseDeviations: inverseDeviations.storage.buffer(T.self), moments: moments.storage.buffer(T.self))
        }
        dtype.select(float32: forward(Float.self), float64: forward(Double.self))
        let recorded = result.recorded(name, [self]) { [unowned result] g in
            // Under createGraph the gradient must itself be differentiable, which the kernel is not.
            if GradMode.isEnabled {
                return [self.normalizedGradientInTensorOps(g, shape: compositeShape, axes: compositeAxes, epsilon: epsilon)]
            }
            let dx = Tensor(uninitialized: g.shape, dtype: g.dtype)
            func backward<T: TensorScalar>(_: T.Type) {
                NormalizationKernels.normalizeBackward(g.storage.buffer(T.self), normalized: result.storage.buffer(T.self),
                                                       inverseDeviations: inverseDeviations.storage.buffer(T.self), rows,
                                                       dx.storage.buffer(T.self))
            }
            g.dtype.select(float32: backward(Float.self), float64: backward(Double.self))
            return [dx]
        }
        return (recorded, moments)
    }

    /// The fused backward's formula, dx = (1 / √(variance + ε)) · (g − mean(g) − x̂ · mean(g · x̂)) per
    /// row, recomputed from `self` in recorded ops so that gradients of gradients flow through it.
    private func normalizedGradientInTensorOps(_ g: Tensor, shape grouped: [Int], axes: [Int], epsilon: Double) -> Tensor {
        let rows = reshaped(grouped), upstream = g.reshaped(grouped)
        let centred = rows - rows.mean(alongAxes: axes, keepingDimensions: true)
        let inverseDeviation = 1 / ((centred * centred).mean(alongAxes: axes, keepingDimensions: true) + epsilon).sqrt()
        let normalized = centred * inverseDeviation
        let dx = inverseDeviation * (upstream - upstream.mean(alongAxes: axes, keepingDimensions: true)
                                     - normalized * (upstream * normalized).mean(alongAxes: axes, keepingDimensions: true))
        return dx.reshaped(shape)
    }
}
