// MARK: - Softmax

extension Tensor {
    /// log softmax along `axis`, computed stably by subtracting the maximum first. The shift is a
    /// constant (log softmax does not change when a row is shifted), so its max is not recorded.
    public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
        let shifted = self - detached().max(alongAxes: [axis], keepingDimensions: true)
        return shifted - shifted.exp().sum(alongAxes: [axis], keepingDimensions: true).log()
    }

    /// softmax along `axis`.
    public func softmax(alongAxis axis: Int = -1) -> Tensor { logSoftmax(alongAxis: axis).exp() }
}
