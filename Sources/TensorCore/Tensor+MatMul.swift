// MARK: - Matrix multiplication

extension Tensor {
    /// The matrix product over the last two axes, `[…, m, k] · […, k, n] → […, m, n]`.
    ///
    /// Leading (batch) axes must be equal, or one operand is a plain matrix shared by every batch.
    public func matmul(_ other: Tensor) -> Tensor {
        let description = "matmul: \(Shape.text(shape)) × \(Shape.text(other.shape))"
        require(rank >= 2 && other.rank >= 2, "\(description): both operands need at least 2 axes")
        require(dtype == other.dtype, "\(description): dtypes differ, \(dtype) and \(other.dtype)")
        let m = shape[rank - 2], k = shape[rank - 1], n = other.shape[other.rank - 1]
        require(other.shape[other.rank - 2] == k, "\(description): inner sizes \(k) and \(other.shape[other.rank - 2]) differ")
        let batchA = Array(shape.dropLast(2)), batchB = Array(other.shape.dropLast(2))
        require(batchA == batchB || batchA.isEmpty || batchB.isEmpty, "\(description): batch axes differ")
        let batchShape = batchA.isEmpty ? batchB : batchA
        let batches = Shape.count(batchShape)

        let result = Tensor(uninitialized: batchShape + [m, n], dtype: dtype)
        if batchB.isEmpty {
            // One shared right matrix: fold the batch into the rows and make one large product.
            multiplyKernel(self, other, into: result, m: batches * m, n: n, k: k, batches: 1, strideA: 0, strideB: 0)
        } else {
            multiplyKernel(self, other, into: result, m: m, n: n, k: k, batches: batches,
                           strideA: batchA.isEmpty ? 0 : m * k, strideB: k * n)
        }
        let a = self, b = other
        return result.recorded("matmul", [a, b]) { g in
            [a.requiresGrad ? g.matmul(b.transposed()).summed(toShape: a.shape) : nil,
             b.requiresGrad ? a.transposed().matmul(g).summed(toShape: b.shape) : nil]
        }
    }

    private func multiplyKernel(_ a: Tensor, _ b: Tensor, into c: Tensor, m: Int, n: Int, k: Int,
                                batches: Int, strideA: Int, strideB: Int) {
        func run<T: TensorScalar>(_: T.Type) {
            let pa = UnsafePointer(a.storage.buffer(T.self).baseAddress!)
            let pb = UnsafePointer(b.storage.buffer(T.self).baseAddress!)
            let pc = c.storage.buffer(T.self).baseAddress!
            for batch in 0..<batches {
                MatrixMultiply.multiply(m: m, n: n, k: k,
                                        MatrixView(base: pa + batch * strideA, rowStride: k, columnStride: 1),
                                        MatrixView(base: pb + batch * strideB, rowStride: n, columnStride: 1),
                                        pc + batch * m * n, ldc: n, accumulate: false)
            }
        }
        dtype.select(float32: run(Float.self), float64: run(Double.self))
    }
}
