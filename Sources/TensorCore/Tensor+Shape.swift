// MARK: - Views and rearrangements

extension Tensor {
    /// The same elements with a new shape of the same count; one axis may be -1 (inferred).
    /// Shares storage, as the data is contiguous.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.reduce(1) { $0 * $1.element }
            require(known > 0 && count % known == 0,
                    "reshaped: cannot infer -1 in \(Shape.text(newShape)) for \(count) elements of \(Shape.text(shape))")
            target[inferred] = count / known
        }
        require(Shape.count(target) == count,
                "reshaped: \(Shape.text(shape)) (\(count) elements) cannot become \(Shape.text(newShape))")
        if target == shape { return self }
        let inputShape = shape
        return Tensor(shape: target, storage: storage).recorded("reshape", [self]) { g in [g.reshaped(inputShape)] }
    }

    /// Flattens the axes from `startAxis` on into one (`torch.flatten(x, 1)` for `startAxis: 1`).
    public func flattened(from startAxis: Int = 0) -> Tensor {
        let start = Shape.axis(startAxis, rank: rank, "flattened")
        return reshaped(Array(shape[..<start]) + [shape[start...].reduce(1, *)])
    }

    /// Repeats size-1 axes (and adds leading axes) to reach `target`, NumPy style.
    public func broadcast(to target: [Int]) -> Tensor {
        if target == shape { return self }
        require(Shape.broadcast(shape, target) == target,
                "broadcast: \(Shape.text(shape)) cannot broadcast to \(Shape.text(target))")
        let result = Tensor(uninitialized: target, dtype: dtype)
        copyView(shape: target, strides: Shape.broadcastStrides(shape, to: target),
                 into: result, destinationStrides: Shape.strides(target))
        let inputShape = shape
        return result.recorded("broadcast", [self]) { g in [g.summed(toShape: inputShape)] }
    }

    /// Reorders the axes: result axis i is input axis `order[i]`.
    public func permuted(_ order: [Int]) -> Tensor {
        require(order.sorted() == Array(0..<rank), "permuted: \(order) is not a permutation of the \(rank) axes of \(Shape.text(shape))")
        if order == Array(0..<rank) { return self }
        let strides = Shape.strides(shape)
        let resultShape = order.map { shape[$0] }
        let result = Tensor(uninitialized: resultShape, dtype: dtype)
        copyView(shape: resultShape, strides: order.map { strides[$0] }, into: result, destinationStrides: Shape.strides(resultShape))
        var inverse = [Int](repeating: 0, count: rank)
        for (i, axis) in order.enumerated() { inverse[axis] = i }
        return result.recorded("permute", [self]) { g in [g.permuted(inverse)] }
    }

    /// Swaps two axes (the last two by default: a matrix transpose).
    public func transposed(_ first: Int = -2, _ second: Int = -1) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(Shape.axis(first, rank: rank, "transposed"), Shape.axis(second, rank: rank, "transposed"))
        return permuted(order)
    }

    /// Elements `range` along `axis` (PyTorch's `narrow`), as a new contiguous tensor.
    public func slice(_ range: Range<Int>, alongAxis axis: Int) -> Tensor {
        let axis = Shape.axis(axis, rank: rank, "slice")
        require(range.lowerBound >= 0 && range.upperBound <= shape[axis],
                "slice: range \(range) out of bounds for axis \(axis) of \(Shape.text(shape))")
        var resultShape = shape
        resultShape[axis] = range.count
        let strides = Shape.strides(shape)
        let result = Tensor(uninitialized: resultShape, dtype: dtype)
        copyView(shape: resultShape, sourceOffset: range.lowerBound * strides[axis], strides: strides,
                 into: result, destinationStrides: Shape.strides(resultShape))
        let size = shape[axis]
        return result.recorded("slice", [self]) { g in
            var widths = [(Int, Int)](repeating: (0, 0), count: g.rank)
            widths[axis] = (range.lowerBound, size - range.upperBound)
            return [g.padded(widths)]
        }
    }

    /// Splits into consecutive pieces of the given sizes along `axis`.
    public func split(sizes: [Int], alongAxis axis: Int) -> [Tensor] {
        let axis = Shape.axis(axis, rank: rank, "split")
        require(sizes.reduce(0, +) == shape[axis], "split: sizes \(sizes) do not add up to \(shape[axis]) along axis \(axis) of \(Shape.text(shape))")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(start..<(start + size), alongAxis: axis)
        }
    }

    /// Surrounds the data with `value`: `widths[i]` = (before, after) for axis i.
    public func padded(_ widths: [(before: Int, after: Int)], value: Double = 0) -> Tensor {
        require(widths.count == rank, "padded: \(widths.count) pad widths for a rank-\(rank) tensor \(Shape.text(shape))")
        require(widths.allSatisfy { $0.before >= 0 && $0.after >= 0 }, "padded: negative pad width in \(widths)")
        let resultShape = zip(shape, widths).map { $0 + $1.before + $1.after }
        let result = Tensor.full(resultShape, value: value, dtype: dtype)
        let resultStrides = Shape.strides(resultShape)
        let offset = zip(widths, resultStrides).reduce(0) { $0 + $1.0.before * $1.1 }
        copyView(shape: shape, strides: Shape.strides(shape), into: result, destinationOffset: offset, destinationStrides: resultStrides)
        let inputShape = shape
        return result.recorded("pad", [self]) { g in
            var cropped = g
            for axis in 0..<g.rank where widths[axis].before + widths[axis].after > 0 {
                cropped = cropped.slice(widths[axis].before..<(widths[axis].before + inputShape[axis]), alongAxis: axis)
            }
            return [cropped]
        }
    }

    /// Joins tensors of equal shape except along `axis`.
    public static func concatenate(_ tensors: [Tensor], alongAxis axis: Int) -> Tensor {
        require(!tensors.isEmpty, "concatenate: no tensors")
        let first = tensors[0]
        let axis = Shape.axis(axis, rank: first.rank, "concatenate")
        for t in tensors {
            var a = t.shape, b = first.shape
            require(a.count == b.count && t.dtype == first.dtype, "concatenate: \(Shape.text(t.shape)) \(t.dtype) and \(Shape.text(first.shape)) \(first.dtype)")
            a[axis] = 0; b[axis] = 0
            require(a == b, "concatenate: shapes \(tensors.map { Shape.text($0.shape) }.joined(separator: ", ")) differ off axis \(axis)")
        }
        var resultShape = first.shape
        resultShape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
        let result = Tensor(uninitialized: resultShape, dtype: first.dtype)
        let resultStrides = Shape.strides(resultShape)
        var start = 0
        for t in tensors {
            t.copyView(shape: t.shape, strides: Shape.strides(t.shape), into: result, destinationOffset: start * resultStrides[axis], destinationStrides: resultStrides)
            start += t.shape[axis]
        }
        let sizes = tensors.map { $0.shape[axis] }
        return result.recorded("concatenate", tensors) { g in g.split(sizes: sizes, alongAxis: axis) }
    }
}
