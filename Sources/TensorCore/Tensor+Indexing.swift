// MARK: - Row gathering (embedding lookup)

extension Tensor {
    /// Rows `indices` of a `[rows, width]` matrix, as `[indices.count, width]` (an embedding lookup).
    public func gatheringRows(_ indices: [Int]) -> Tensor {
        require(rank == 2, "gatheringRows: expected a [rows, width] matrix, got \(Shape.text(shape))")
        let (rows, width) = (shape[0], shape[1])
        for index in indices {
            require(index >= 0 && index < rows, "gatheringRows: index \(index) out of range 0..<\(rows)")
        }
        let result = Tensor(uninitialized: [indices.count, width], dtype: dtype)
        let strides = [width, 1]
        for (i, index) in indices.enumerated() {
            copyView(shape: [1, width], sourceOffset: index * width, strides: strides,
                     into: result, destinationOffset: i * width, destinationStrides: strides)
        }
        return result.recorded("gatherRows", [self]) { g in [g.scatteringRows(indices, rowCount: rows)] }
    }

    /// The adjoint of `gatheringRows`: adds row i of `self` into row `indices[i]` of a zero
    /// `[rowCount, width]` matrix.
    public func scatteringRows(_ indices: [Int], rowCount: Int) -> Tensor {
        require(rank == 2 && shape[0] == indices.count,
                     "scatteringRows: \(indices.count) indices for rows of \(Shape.text(shape))")
        let oneHot = Tensor.zeros([rowCount, indices.count], dtype: dtype)
        for (i, index) in indices.enumerated() {
            require(index >= 0 && index < rowCount, "scatteringRows: index \(index) out of range 0..<\(rowCount)")
            oneHot.assignElement(1, at: index * indices.count + i)
        }
        // A one-hot matrix product keeps the adjoint (and its own gradient) in terms of matmul.
        return oneHot.matmul(self)
    }

    /// Writes one element in place, outside autograd (for building constant tensors).
    func assignElement(_ value: Double, at index: Int) {
        switch dtype {
        case .float32: storage.buffer(Float.self)[index] = Float(value)
        case .float64: storage.buffer(Double.self)[index] = value
        }
    }

    /// A `[indices.count, classes]` matrix with a 1 at each (i, indices[i]).
    public static func oneHot(_ indices: [Int], classes: Int, dtype: DType = .float32) -> Tensor {
        let result = Tensor.zeros([indices.count, classes], dtype: dtype)
        for (i, index) in indices.enumerated() {
            require(index >= 0 && index < classes, "oneHot: class \(index) out of range 0..<\(classes)")
            result.assignElement(1, at: i * classes + index)
        }
        return result
    }

    /// log softmax along `axis`, computed stably by subtracting the maximum first. The shift is a
    /// constant (log softmax does not change when a row is shifted), so its max is not recorded.
    public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
        let shifted = self - detached().max(alongAxes: [axis], keepingDimensions: true)
        return shifted - shifted.exp().sum(alongAxes: [axis], keepingDimensions: true).log()
    }

    /// softmax along `axis`.
    public func softmax(alongAxis axis: Int = -1) -> Tensor { logSoftmax(alongAxis: axis).exp() }
}
