/// Finds the first operation whose forward value or backward gradient is NaN or infinite.
///
/// When training blows up, the loss is NaN long after the cause. Run one step inside
/// `detectAnomalies { … }` and the error names the first op that produced a non-finite value,
/// with its input shapes — as PyTorch's `torch.autograd.detect_anomaly()` does.
public final class AnomalyDetector: @unchecked Sendable {
    @TaskLocal static var current: AnomalyDetector?

    /// Which pass produced the non-finite value.
    public enum Phase: String, Sendable { case forward, backward }

    /// The first non-finite value found.
    public struct Anomaly: Error, CustomStringConvertible, Sendable {
        public let op: String
        public let phase: Phase
        public let outputShape: [Int]
        public let inputShapes: [[Int]]
        public let nonFiniteCount: Int

        public var description: String {
            let inputs = inputShapes.map(Shape.text).joined(separator: ", ")
            return "anomaly: \(op) produced \(nonFiniteCount) NaN/Inf value(s) in its \(phase.rawValue) pass; output \(Shape.text(outputShape)), inputs \(inputs)"
        }
    }

    private(set) var first: Anomaly?

    func inspect(_ tensor: Tensor, op: @autoclosure () -> String, inputs: [Tensor], phase: Phase) {
        guard first == nil else { return }
        func run<T: TensorScalar>(_: T.Type) -> Int { tensor.storage.buffer(T.self).reduce(0) { $0 + ($1.isFinite ? 0 : 1) } }
        let bad = tensor.dtype.select(float32: run(Float.self), float64: run(Double.self))
        guard bad > 0 else { return }
        // An op whose inputs were already non-finite only passes the problem on; it is not the cause.
        if phase == .forward, inputs.contains(where: { $0.hasNonFinite }) { return }
        first = Anomaly(op: op(), phase: phase, outputShape: tensor.shape, inputShapes: inputs.map(\.shape), nonFiniteCount: bad)
    }
}

extension Tensor {
    /// Whether any element is NaN or infinite.
    public var hasNonFinite: Bool {
        func run<T: TensorScalar>(_: T.Type) -> Bool { storage.buffer(T.self).contains { !$0.isFinite } }
        return dtype.select(float32: run(Float.self), float64: run(Double.self))
    }
}

/// Runs `body` while checking every op's output and every backward gradient for NaN and Inf;
/// throws `AnomalyDetector.Anomaly` naming the first op that produced one.
public func detectAnomalies<R>(_ body: () throws -> R) throws -> R {
    let detector = AnomalyDetector()
    let result = try AnomalyDetector.$current.withValue(detector, operation: body)
    if let anomaly = detector.first { throw anomaly }
    return result
}
