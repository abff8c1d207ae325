/// Sum and maximum over a set of axes.
///
/// The input is walked once in row-major order and each element is folded into its output
/// slot, so the order of additions — and therefore the rounding — never depends on threads.
/// When whole rows fold into single slots (a per-channel sum over batch and pixels), the slots
/// are shared out among the threads: each walks the rows in the same order and takes its own.
enum ReductionKernels {
    enum Kind { case sum, maximum }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func reduce<T: TensorScalar>(_ kind: Kind, _ x: UnsafeMutableBufferPointer<T>, shape: [Int],
                                        outputStrides: [Int], _ y: UnsafeMutableBufferPointer<T>) {
        y.update(repeating: kind == .sum ? 0 : -T.infinity)
        let plan = StridedPlan(shape: shape, firstStrides: Shape.strides(shape), secondStrides: outputStrides)
        let n = plan.rowLength, inputStep = plan.firstStep, outputStep = plan.secondStep
        let slots = y.count
        let tasks = outputStep == 0 && x.count >= Parallel.minimumParallelElements ? min(Parallel.threadCount, slots) : 1
        let pointers = SendableBox((x.baseAddress!, y.baseAddress!))
        Parallel.forEach(tasks) { task in
            let (px, py) = pointers.value
            let owned = task * slots / tasks..<(task + 1) * slots / tasks
            plan.forEachRow { _, inputOffset, outputOffset in
                guard owned.contains(outputOffset) else { return }
                let row = px + inputOffset, out = py + outputOffset
                switch (kind, outputStep == 0) {
                case (.sum, true) where inputStep == 1:
                    out[0] += contiguousSum(row, n)
                case (.sum, true):
                    var total: T = 0
                    for i in 0..<n { total += row[i * inputStep] }
                    out[0] += total
                case (.sum, false):
                    for i in 0..<n { out[i * outputStep] += row[i * inputStep] }
                case (.maximum, true):
                    var best = out[0]
                    for i in 0..<n where row[i * inputStep] > best || row[i * inputStep].isNaN { best = row[i * inputStep] }
                    out[0] = best
                case (.maximum, false):
                    for i in 0..<n where row[i * inputStep] > out[i * outputStep] || row[i * inputStep].isNaN {
                        out[i * outputStep] = row[i * inputStep]
                    }
                }
            }
        }
    }

    /// Σ row[0..<n] with eight interleaved partial sums. One running total waits for each addition
    /// to finish before the next (a few cycles apiece); eight independent ones fill a vector
    /// register instead. The order is fixed by `n` alone, so the bits never depend on threads.
    @inline(__always)
    private static func contiguousSum<T: TensorScalar>(_ row: UnsafeMutablePointer<T>, _ n: Int) -> T {
        var partial = SIMD8<T>()
        var i = 0
        while i + 8 <= n {
            partial += UnsafeRawPointer(row + i).loadUnaligned(as: SIMD8<T>.self)
            i += 8
        }
        var total = partial.sum()
        while i < n { total += row[i]; i += 1 }
        return total
    }
}
