// MARK: - Reductions

extension Tensor {
    private func reducedShape(_ axes: [Int], keepingDimensions: Bool) -> (kept: [Int], result: [Int]) {
        let kept = shape.indices.map { axes.contains($0) ? 1 : shape[$0] }
        let result = shape.indices.filter { !axes.contains($0) }.map { shape[$0] }
        return (kept, keepingDimensions ? kept : result)
    }

    private func resolvedAxes(_ axes: [Int], _ name: String) -> [Int] {
        let resolved = axes.map { Shape.axis($0, rank: rank, name) }
        require(Set(resolved).count == resolved.count, "\(name): repeated axis in \(axes)")
        return resolved.sorted()
    }

    private func reduced(_ kind: ReductionKernels.Kind, _ axes: [Int], keptShape: [Int]) -> Tensor {
        let result = Tensor(uninitialized: keptShape, dtype: dtype)
        let outputStrides = Shape.broadcastStrides(keptShape, to: shape)
        func run<T: TensorScalar>(_: T.Type) {
            ReductionKernels.reduce(kind, storage.buffer(T.self), shape: shape, outputStrides: outputStrides, result.storage.buffer(T.self))
        }
        dtype.select(float32: run(Float.self), float64: run(Double.self))
        return result
    }

    /// The sum over `axes` (negative axes count from the end); size-1 axes stay when `keepingDimensions`.
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let axes = resolvedAxes(axes, "sum")
        let (kept, resultShape) = reducedShape(axes, keepingDimensions: keepingDimensions)
        let inputShape = shape
        return reduced(.sum, axes, keptShape: kept).reshaped(resultShape).recorded("sum", [self]) { g in
            [g.reshaped(kept).broadcast(to: inputShape)]
        }
    }

    /// The sum of all elements, as a scalar.
    public func sum() -> Tensor { sum(alongAxes: Array(0..<rank)) }

    /// The mean over `axes`.
    public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let axes = resolvedAxes(axes, "mean")
        let n = axes.reduce(1) { $0 * shape[$1] }
        return sum(alongAxes: axes, keepingDimensions: keepingDimensions) * (1 / Double(n))
    }

    /// The mean of all elements, as a scalar.
    public func mean() -> Tensor { mean(alongAxes: Array(0..<rank)) }

    /// The maximum over `axes`. The gradient is shared equally among tied maxima (PyTorch's `amax`).
    public func max(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let axes = resolvedAxes(axes, "max")
        require(axes.allSatisfy { shape[$0] > 0 }, "max: reducing an empty axis of \(Shape.text(shape))")
        let (kept, resultShape) = reducedShape(axes, keepingDimensions: keepingDimensions)
        let maxima = reduced(.maximum, axes, keptShape: kept)
        // The backward needs the maxima's values, not the result tensor itself (which may be the
        // same object when no reshape happens): capturing that would make a cycle and leak the graph.
        let values = maxima.detached()
        return maxima.reshaped(resultShape).recorded("max", [self]) { g in
            let winners = self.detached().equalMask(values)
            let share = winners / winners.sum(alongAxes: axes, keepingDimensions: true)
            return [g.reshaped(kept) * share]
        }
    }

    /// The maximum of all elements, as a scalar.
    public func max() -> Tensor { max(alongAxes: Array(0..<rank)) }

    /// The variance over `axes`; `unbiased` divides by n − 1 (PyTorch's default), else by n.
    public func variance(alongAxes axes: [Int], unbiased: Bool = true, keepingDimensions: Bool = false) -> Tensor {
        let axes = resolvedAxes(axes, "variance")
        let n = axes.reduce(1) { $0 * shape[$1] }
        require(!unbiased || n > 1, "variance: an unbiased variance needs more than one element per group")
        let centred = self - mean(alongAxes: axes, keepingDimensions: true)
        return (centred * centred).sum(alongAxes: axes, keepingDimensions: keepingDimensions) * (1 / Double(unbiased ? n - 1 : n))
    }

    /// The variance of all elements.
    public func variance(unbiased: Bool = true) -> Tensor { variance(alongAxes: Array(0..<rank), unbiased: unbiased) }

    /// The index of the largest element along the last axis, for each row (not differentiable).
    public func argmaxLastAxis() -> [Int] {
        require(rank >= 1 && shape[rank - 1] > 0, "argmaxLastAxis: needs a non-empty last axis, got \(Shape.text(shape))")
        let width = shape[rank - 1]
        let values = doubles
        return stride(from: 0, to: count, by: width).map { start in
            var best = start
            for i in start..<(start + width) where values[i] > values[best] { best = i }
            return best - start
        }
    }
}
