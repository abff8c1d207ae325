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
        let (px, py) = (x.baseAddress!, y.baseAddress!)
        forEachRow(plan, slots: y.count, elements: x.count) { inputOffset, outputOffset in
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

    /// Σ a·b over the reduced axes, for `a` and `b` of one shape, without writing the products
    /// out: the sums of `reduce(.sum, …)` of the elementwise product, bit for bit (each product
    /// is rounded, then added in the same order). A gradient of a per-channel scale is this sum.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func sumOfProducts<T: TensorScalar>(_ a: UnsafeMutableBufferPointer<T>, _ b: UnsafeMutableBufferPointer<T>, shape: [Int],
                                               outputStrides: [Int], _ y: UnsafeMutableBufferPointer<T>) {
        y.update(repeating: 0)
        let plan = StridedPlan(shape: shape, firstStrides: Shape.strides(shape), secondStrides: outputStrides)
        let n = plan.rowLength, inputStep = plan.firstStep, outputStep = plan.secondStep
        let (pa, pb, py) = (a.baseAddress!, b.baseAddress!, y.baseAddress!)
        forEachRow(plan, slots: y.count, elements: a.count) { inputOffset, outputOffset in
            let (ra, rb, out) = (pa + inputOffset, pb + inputOffset, py + outputOffset)
            if outputStep == 0 && inputStep == 1 {
                out[0] += contiguousSum(ra, times: rb, n)
            } else if outputStep == 0 {
                var total: T = 0
                for i in 0..<n { total += ra[i * inputStep] * rb[i * inputStep] }
                out[0] += total
            } else {
                for i in 0..<n { out[i * outputStep] += ra[i * inputStep] * rb[i * inputStep] }
            }
        }
    }

    /// Calls `body(inputOffset, outputOffset)` for the rows of `plan` in row-major order. When
    /// whole rows fold into single slots and there are `elements` enough, the `slots` are shared
    /// out among the threads, each walking every row and taking those of its own slots.
    @inline(__always)
    private static func forEachRow(_ plan: StridedPlan, slots: Int, elements: Int, _ body: (Int, Int) -> Void) {
        let tasks = plan.secondStep == 0 && elements >= Parallel.minimumParallelElements ? min(Parallel.threadCount, slots) : 1
        Parallel.forEach(tasks) { task in
            let owned = task * slots / tasks..<(task + 1) * slots / tasks
            plan.forEachRow { _, inputOffset, outputOffset in
                if owned.contains(outputOffset) { body(inputOffset, outputOffset) }
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

    /// `contiguousSum` of the products a[i]·b[i], in the same order.
    @inline(__always)
    private static func contiguousSum<T: TensorScalar>(_ a: UnsafeMutablePointer<T>, times b: UnsafeMutablePointer<T>, _ n: Int) -> T {
        var partial = SIMD8<T>()
        var i = 0
        while i + 8 <= n {
            partial += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<T>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<T>.self)
            i += 8
        }
        var total = partial.sum()
        while i < n { total += a[i] * b[i]; i += 1 }
        return total
    }
}
