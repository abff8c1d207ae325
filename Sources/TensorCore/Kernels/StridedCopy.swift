/// Copies a strided view of one buffer into a strided view of another: the single kernel behind
/// permute, broadcast, slice, pad and concatenation.
enum StridedCopyKernel {
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func copy<T: TensorScalar>(shape: [Int],
                                      from source: UnsafeMutableBufferPointer<T>, offset sourceOffset: Int, strides sourceStrides: [Int],
                                      to destination: UnsafeMutableBufferPointer<T>, offset destinationOffset: Int, strides destinationStrides: [Int]) {
        let count = Shape.count(shape)
        guard count > 0 else { return }
        let plan = StridedPlan(shape: shape, firstStrides: sourceStrides, secondStrides: destinationStrides)
        let sourceStep = plan.firstStep, destinationStep = plan.secondStep
        let ps = source.baseAddress! + sourceOffset, pd = destination.baseAddress! + destinationOffset
        // Every element is copied on its own, so any cut of the elements gives the same result.
        Parallel.forEachChunk(of: count) { elements in
            plan.forEachSegment(of: elements) { _, columns, s, d in
                if sourceStep == 1 && destinationStep == 1 {
                    Runs.copy(ps + s + columns.lowerBound, to: pd + d + columns.lowerBound, count: columns.count)
                } else {
                    for i in columns { pd[d + i * destinationStep] = ps[s + i * sourceStep] }
                }
            }
        }
    }
}

extension Tensor {
    /// Copies `self`, viewed with `sourceStrides` from `sourceOffset` over `viewShape`, into
    /// `destination` viewed the same way. Not recorded.
    func copyView(shape viewShape: [Int], sourceOffset: Int = 0, strides sourceStrides: [Int],
                  into destination: Tensor, destinationOffset: Int = 0, destinationStrides: [Int]) {
        func run<T: TensorScalar>(_: T.Type) {
            StridedCopyKernel.copy(shape: viewShape, from: storage.buffer(T.self), offset: sourceOffset, strides: sourceStrides,
                                   to: destination.storage.buffer(T.self), offset: destinationOffset, strides: destinationStrides)
        }
        dtype.select(float32: run(Float.self), float64: run(Double.self))
    }
}
