// MARK: - One-hot encoding

extension Tensor {
    /// A `[indices.count, classes]` matrix with a 1 at each (i, indices[i]).
    public static func oneHot(_ indices: [Int], classes: Int, dtype: DType = .float32) -> Tensor {
        let result = Tensor.zeros([indices.count, classes], dtype: dtype)
        for (i, index) in indices.enumerated() {
            require(index >= 0 && index < classes, "oneHot: class \(index) out of range 0..<\(classes)")
            result.assignElement(1, at: i * classes + index)
        }
        return result
    }
}
