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
        func run<T: TensorScalar>(_: T.Type) { storage.buffer(T.self)[index] = T(value) }
        dtype.select(float32: run(Float.self), float64: run(Double.self))
    }
}
