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
        let outer = sizes.count - 1
        let rows = sizes.dropLast().reduce(1, *)
        var index = [Int](repeating: 0, count: max(outer, 1))
        var first = 0, second = 0
        for row in 0..<rows {
            body(row, first, second)
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
