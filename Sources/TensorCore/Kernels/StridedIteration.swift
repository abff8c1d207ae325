/// Walks two operands laid over one output shape, row by row, for broadcasting kernels.
///
/// Size-1 axes are dropped and neighbouring axes that are contiguous for both operands are merged,
/// so `[N, C, H, W] + [1, C, 1, 1]` becomes rows of `H·W` with a constant second operand: the inner
/// loop of every broadcasting kernel runs over long rows with steps of 0 or 1.
struct StridedPlan {
    /// Merged axis sizes; the last one is the row length.
    private(set) var sizes: [Int] = []
    private(set) var firstStrides: [Int] = []
    private(set) var secondStrides: [Int] = []

    init(shape: [Int], firstStrides first: [Int], secondStrides second: [Int]) {
        for axis in shape.indices where shape[axis] != 1 {
            if let last = sizes.indices.last,
               firstStrides[last] == first[axis] * shape[axis],
               secondStrides[last] == second[axis] * shape[axis] {
                sizes[last] *= shape[axis]
                firstStrides[last] = first[axis]
                secondStrides[last] = second[axis]
            } else {
                sizes.append(shape[axis])
                firstStrides.append(first[axis])
                secondStrides.append(second[axis])
            }
        }
        if sizes.isEmpty { sizes = [1]; firstStrides = [0]; secondStrides = [0] }
    }

    var rowLength: Int { sizes[sizes.count - 1] }
    var firstStep: Int { firstStrides[sizes.count - 1] }
    var secondStep: Int { secondStrides[sizes.count - 1] }

    /// Calls `body(rowIndex, firstOffset, secondOffset)` for every row, in row-major order.
    /// The output of row `r` starts at `r * rowLength` when the output is contiguous.
    @inline(__always)
    func forEachRow(_ body: (Int, Int, Int) -> Void) {
        forEachSegment(of: 0..<(sizes.reduce(1, *))) { row, _, first, second in body(row, first, second) }
    }

    /// Calls `body(rowIndex, columns, firstOffset, secondOffset)` for every row that the flat output
    /// range `elements` touches, in row-major order, with `columns` the part of that row inside the
    /// range. Kernels use it to cut their output into equal chunks for threads, whatever the rows' length.
    @inline(__always)
    func forEachSegment(of elements: Range<Int>, _ body: (Int, Range<Int>, Int, Int) -> Void) {
        guard !elements.isEmpty else { return }
        let n = rowLength, outer = sizes.count - 1
        var row = elements.lowerBound / n
        // The odometer's starting position: the first row's index in the outer axes' mixed radix.
        var index = [Int](repeating: 0, count: max(outer, 1))
        var first = 0, second = 0
        var remaining = row
        for axis in stride(from: outer - 1, through: 0, by: -1) {
            index[axis] = remaining % sizes[axis]
            remaining /= sizes[axis]
            first += index[axis] * firstStrides[axis]
            second += index[axis] * secondStrides[axis]
        }
        var start = elements.lowerBound - row * n
        while row * n < elements.upperBound {
            body(row, start..<Swift.min(n, elements.upperBound - row * n), first, second)
            start = 0
            row += 1
            // Odometer step over the outer axes.
            var axis = outer - 1
            while axis >= 0 {
                index[axis] += 1
                first += firstStrides[axis]
                second += secondStrides[axis]
                if index[axis] < sizes[axis] { break }
                first -= firstStrides[axis] * sizes[axis]
                second -= secondStrides[axis] * sizes[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }
}
