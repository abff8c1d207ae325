import Foundation

/// A strided view of a matrix: element (i, j) is at `base[i * rowStride + j * columnStride]`.
/// A transposed matrix is the same memory with the strides swapped.
///
/// Rows may instead take their starts from a table: with `rowOffsets`, row i starts at
/// `base + rowOffsets[i]`. A stride-1 convolution reads its unfolded input this way, each row a
/// window into a padded plane (see `ShiftedConvolution.swift`).
struct MatrixView<T: TensorScalar> {
    var base: UnsafePointer<T>
    var rowStride: Int
    var columnStride: Int
    var rowOffsets: UnsafePointer<Int>? = nil

    @inline(__always) func rowOffset(_ i: Int) -> Int { rowOffsets.map { $0[i] } ?? i * rowStride }
    @inline(__always) subscript(i: Int, j: Int) -> T { base[rowOffset(i) + j * columnStride] }

    /// Whether each row is contiguous in memory (row-major, or windows from a table).
    var rowsAreContiguous: Bool { columnStride == 1 }
    /// Whether each column is contiguous in memory (a transposed row-major matrix).
    var columnsAreContiguous: Bool { rowStride == 1 && rowOffsets == nil }
    /// Whether the rows are contiguous windows at offsets from a table: the GEMM reads such an
    /// operand in place instead of packing it.
    var rowsAreWindows: Bool { rowOffsets != nil && columnStride == 1 }

    /// The view of rows `i0...` and columns `j0...`.
    func from(row i0: Int = 0, column j0: Int = 0) -> MatrixView {
        var view = self
        if let rowOffsets { view.rowOffsets = rowOffsets + i0 } else { view.base += i0 * rowStride }
        view.base += j0 * columnStride
        return view
    }
}

/// General matrix multiply, C[m, n] = A[m, k] · B[k, n] (+ C when accumulating).
///
/// `reference` is the loop a student can follow. `multiply` is the fast path: for Float, a packed
/// SIMD kernel in the style of BLIS/GotoBLAS; for Double (gradient checks) a cache-friendly loop.
/// Every element of C is accumulated over k in the same order however the work is split over
/// threads, so results are bitwise reproducible.
enum MatrixMultiply {
    /// The textbook triple loop.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func reference<T: TensorScalar>(m: Int, n: Int, k: Int, _ a: MatrixView<T>, _ b: MatrixView<T>,
                                           _ c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool) {
        for i in 0..<m {
            for j in 0..<n {
                var total: T = accumulate ? c[i * ldc + j] : 0
                for p in 0..<k { total += a[i, p] * b[p, j] }
                c[i * ldc + j] = total
            }
        }
    }

    /// The fast path; `parallel: false` keeps it on the calling thread (for callers that already
    /// split their work, such as convolution over the samples of a batch).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func multiply<T: TensorScalar>(m: Int, n: Int, k: Int, _ a: MatrixView<T>, _ b: MatrixView<T>,
                                          _ c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool, parallel: Bool = true,
                                          plan: GemmPlan = .current) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        if T.self == Float.self {
            let af = unsafeBitCast(a, to: MatrixView<Float>.self), bf = unsafeBitCast(b, to: MatrixView<Float>.self)
            let cf = UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self)
            PackedFloatGemm.multiply(m: m, n: n, k: k, af, bf, cf, ldc: ldc, accumulate: accumulate, parallel: parallel, plan: plan)
        } else {
            rowOrderLoop(m: m, n: n, k: k, a, b, c, ldc: ldc, accumulate: accumulate, parallel: parallel)
        }
    }

    /// Runs `body` with A `[m, k]` prepared for several products that share it: for Float, packed
    /// into the GEMM's panels once. A convolution multiplies its weights by one chunk of samples
    /// after another; packing them again for every chunk cost as much as the chunk's arithmetic on
    /// layers with many channels and few pixels.
    static func withPrepared<T: TensorScalar, R>(_ a: MatrixView<T>, m: Int, k: Int, plan: GemmPlan = .current,
                                                 _ body: (PreparedOperand<T>) -> R) -> R {
        guard T.self == Float.self, m > 0, k > 0, !a.rowsAreWindows else { return body(PreparedOperand(view: a, m: m, k: k, panels: nil)) }
        let af = unsafeBitCast(a, to: MatrixView<Float>.self)
        return MemoryPool.withScratch(Float.self, count: PackedFloatGemm.paddedRows(m) * k) { packed in
            let panels = PackedFloatGemm.packWhole(af, m: m, k: k, plan: plan, into: packed, parallel: true)
            return body(PreparedOperand(view: a, m: m, k: k, panels: panels))
        }
    }

    /// C[m, n] = A · B for an A prepared by `withPrepared` (with the same plan).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func multiply<T: TensorScalar>(n: Int, _ a: PreparedOperand<T>, _ b: MatrixView<T>, _ c: UnsafeMutablePointer<T>,
                                          ldc: Int, accumulate: Bool, parallel: Bool = true, plan: GemmPlan = .current) {
        guard let panels = a.panels, n > 0 else {
            return multiply(m: a.m, n: n, k: a.k, a.view, b, c, ldc: ldc, accumulate: accumulate, parallel: parallel, plan: plan)
        }
        let bf = unsafeBitCast(b, to: MatrixView<Float>.self)
        let cf = UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self)
        PackedFloatGemm.multiply(m: a.m, n: n, k: a.k, unsafeBitCast(a.view, to: MatrixView<Float>.self), bf, cf, ldc: ldc,
                                 accumulate: accumulate, parallel: parallel, plan: plan, packedA: panels)
    }

    /// i-p-j order: the inner loop runs along rows of B and C, which vectorises when B is row-major.
    private static func rowOrderLoop<T: TensorScalar>(m: Int, n: Int, k: Int, _ a: MatrixView<T>, _ b: MatrixView<T>,
                                                      _ c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool, parallel: Bool) {
        let cBox = SendableBox(c)
        let rowBlocks = parallel ? min(m, Parallel.threadCount * 4) : 1
        Parallel.forEach(rowBlocks) { block in
            let c = cBox.value
            for i in (block * m / rowBlocks)..<((block + 1) * m / rowBlocks) {
                let row = c + i * ldc
                if !accumulate { row.update(repeating: 0, count: n) }
                for p in 0..<k {
                    let factor = a[i, p]
                    for j in 0..<n { row[j] += factor * b[p, j] }
                }
            }
        }
    }
}

/// A left operand ready for several products: its view, and for Float its packed panels.
struct PreparedOperand<T: TensorScalar> {
    let view: MatrixView<T>
    let m: Int, k: Int
    let panels: PackedPanels?
}

/// A packed whole, block after block of k: block p0 holds every panel of `mr` rows over kb columns,
/// one after another, the last panel padded with zero rows.
struct PackedPanels {
    let base: UnsafePointer<Float>
    /// A's rows rounded up to whole panels.
    let rows: Int
    /// The row this view starts at (a multiple of `mr`: a task's share of A).
    var firstRow = 0

    /// The panels of rows i0… over block p0 (of depth kb).
    @inline(__always) func block(_ p0: Int, row i0: Int, depth kb: Int) -> UnsafePointer<Float> { base + rows * p0 + (firstRow + i0) * kb }

    func from(row i0: Int) -> PackedPanels { var view = self; view.firstRow += i0; return view }
}

/// How the packed Float GEMM cuts its work on one processor: the register tile and three cache blocks.
///
/// The blocks follow the analytical model of BLIS (Low et al., "Analytical modeling is enough for
/// high-performance BLIS", 2016): one packed panel of B, kc × nr, stays in half of L1 while panels
/// of A stream past it; A's packed block, mc × kc, stays in half of L2; B's packed block, kc × nc,
/// in a share of L3. Blocks change where each partial sum over k starts, so results are bitwise
/// reproducible for one plan (one machine), not across plans.
public struct GemmPlan: Sendable, Equatable, CustomStringConvertible {
    /// The register tile: six rows of A times two vectors' worth of B's columns, twelve accumulators.
    public enum Tile: String, CaseIterable, Sendable {
        /// 6 × 16 in SIMD8s: twelve accumulators fit sixteen 256-bit registers (or 32 NEON ones).
        case simd8 = "6x16"
        /// 6 × 32 in SIMD16s: twice the arithmetic per instruction where registers are 512 bits wide.
        case simd16 = "6x32"

        /// Columns of the tile.
        public var columns: Int { self == .simd16 ? 32 : 16 }
    }

    public let tile: Tile
    /// Depth of a packed block (along k), rows of A's block, columns of B's block.
    public let kc: Int, mc: Int, nc: Int
    /// Floats of packed A that stay in L2 (half of it): an A this small is packed once, whole.
    public let residentA: Int
    /// Rows of the tile.
    public static let rows = 6

    /// The plan for `processor`: its widest tile unless one is named, and blocks from its caches.
    public init(for processor: Processor, tile: Tile? = nil, threads: Int = Parallel.threadCount) {
        let tile = tile ?? (processor.vectorBits >= 512 ? .simd16 : .simd8)
        let floatBytes = MemoryLayout<Float>.size
        func multiple(_ value: Int, of unit: Int, in range: ClosedRange<Int>) -> Int {
            min(max(value, range.lowerBound), range.upperBound) / unit * unit
        }
        let kc = multiple(processor.level1Bytes / 2 / (tile.columns * floatBytes), of: 16, in: 128...512)
        let mc = multiple(processor.level2Bytes / 2 / (kc * floatBytes), of: Self.rows, in: 48...1536)
        let nc = multiple(processor.level3Bytes / 4 / max(1, threads) / (kc * floatBytes), of: tile.columns, in: 512...4096)
        self.init(tile: tile, kc: kc, mc: mc, nc: nc, residentA: processor.level2Bytes / 2 / floatBytes)
    }

    init(tile: Tile, kc: Int, mc: Int, nc: Int, residentA: Int) {
        precondition(kc > 0 && mc % Self.rows == 0 && mc > 0 && nc % tile.columns == 0 && nc > 0 && residentA >= 0,
                     "GemmPlan: blocks \(kc), \(mc), \(nc), resident \(residentA)")
        (self.tile, self.kc, self.mc, self.nc, self.residentA) = (tile, kc, mc, nc, residentA)
    }

    /// The environment variable that forces a tile on any machine, for timing and testing each path.
    public static let tileVariable = "GENERATIVE_SWIFT_GEMM_TILE"

    /// The tile named by `GENERATIVE_SWIFT_GEMM_TILE`: nil when unset, an error naming the
    /// allowed values when it is set to anything else.
    public static func requestedTile() throws -> Tile? {
        guard let text = ProcessInfo.processInfo.environment[tileVariable], !text.isEmpty else { return nil }
        guard let tile = Tile(rawValue: text) else {
            throw PlanError(message: "\(tileVariable)=\(text) names no tile; use \(Tile.allCases.map(\.rawValue).joined(separator: " or "))")
        }
        return tile
    }

    /// The plan the kernels use: this processor's, with the tile `GENERATIVE_SWIFT_GEMM_TILE` names.
    /// A value that names no tile is reported once on stderr and ignored (`Bench` refuses it).
    public static let current: GemmPlan = {
        do {
            return GemmPlan(for: .current, tile: try requestedTile())
        } catch {
            FileHandle.standardError.write(Data("warning: \(error); using this processor's own plan\n".utf8))
            return GemmPlan(for: .current)
        }
    }()

    public var description: String { "tile \(tile.rawValue), blocks kc \(kc) mc \(mc) nc \(nc), A resident up to \(residentA) floats" }

    public struct PlanError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }
}

/// The packed SIMD GEMM for Float.
///
/// The micro-kernel keeps a 6×`nr` tile of C in twelve vector registers and streams through k,
/// reading six values of A and one row of `nr` values of B per step. Both usually come from
/// panels packed in that order: B's just before their first use, A's block by block (or once,
/// whole, when it fits the plan's resident budget). Operands already in that shape are read in
/// place: shifted-window rows of B (each a contiguous run) and of A (six read side by side). The
/// plan's blocks keep what is packed in cache. With 512-bit vectors, windows of A times a C at most
/// one vector wide take a tile of twelve rows by one vector instead (`narrow`).
enum PackedFloatGemm {
    static let mr = GemmPlan.rows
    /// Products with fewer multiply-adds than this (a small linear layer's, 64 × 32 × 2048 say)
    /// run on one thread: split, each thread would pack the same shared operand for a fraction of
    /// the arithmetic, and the two together took longer than one alone.
    static let minimumParallelProducts = 1 << 23

    static func multiply(m: Int, n: Int, k: Int, _ a: MatrixView<Float>, _ b: MatrixView<Float>,
                         _ c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, parallel: Bool, plan: GemmPlan,
                         packedA: PackedPanels? = nil) {
        // Split C into column stripes (or row stripes when it is tall and thin), one per task.
        let nr = plan.tile.columns
        let tasks = parallel && m * n * k >= minimumParallelProducts ? Parallel.threadCount : 1
        let columnPanels = (n + nr - 1) / nr, rowPanels = (m + mr - 1) / mr
        let splitColumns = columnPanels >= rowPanels || columnPanels >= 2 * tasks
        let panels = splitColumns ? columnPanels : rowPanels
        let taskCount = max(1, min(tasks, panels))
        let cBox = SendableBox(c)
        Parallel.forEach(taskCount) { task in
            let first = task * panels / taskCount, last = (task + 1) * panels / taskCount
            if splitColumns {
                let j0 = first * nr, j1 = min(n, last * nr)
                guard j1 > j0 else { return }
                serial(m: m, n: j1 - j0, k: k, a, b.from(column: j0), cBox.value + j0, ldc: ldc, accumulate: accumulate, plan: plan,
                       prepacked: packedA)
            } else {
                let i0 = first * mr, i1 = min(m, last * mr)
                guard i1 > i0 else { return }
                serial(m: i1 - i0, n: n, k: k, a.from(row: i0), b, cBox.value + i0 * ldc, ldc: ldc, accumulate: accumulate, plan: plan,
                       prepacked: packedA?.from(row: i0))
            }
        }
    }

    /// Rows of A rounded up to whole panels.
    static func paddedRows(_ m: Int) -> Int { (m + mr - 1) / mr * mr }

    /// Packs all of A (`paddedRows(m) * k` floats at `packed`), block after block of the plan's kc,
    /// the blocks spread over the threads when `parallel`.
    static func packWhole(_ a: MatrixView<Float>, m: Int, k: Int, plan: GemmPlan, into packed: UnsafeMutablePointer<Float>,
                          parallel: Bool) -> PackedPanels {
        let rows = paddedRows(m), blocks = (k + plan.kc - 1) / plan.kc
        func pack(block: Int) {
            let p0 = block * plan.kc
            packA(a, rows: 0, m, columns: p0, min(plan.kc, k - p0), into: packed + rows * p0)
        }
        if parallel { Parallel.forEach(blocks, pack) } else { for block in 0..<blocks { pack(block: block) } }
        return PackedPanels(base: packed, rows: rows)
    }

    private static func serial(m: Int, n: Int, k: Int, _ a: MatrixView<Float>, _ b: MatrixView<Float>,
                               _ c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, plan: GemmPlan, prepacked: PackedPanels?) {
        let (kc, nr) = (min(plan.kc, k), plan.tile.columns)
        // A small A is packed once, whole (it fits the resident budget); a large one block by block.
        let packsWhole = prepacked == nil && !a.rowsAreWindows && paddedRows(m) * k <= plan.residentA
        let packedACount = a.rowsAreWindows || prepacked != nil ? 0 : packsWhole ? paddedRows(m) * k : kc * (min(m, plan.mc) + mr)
        MemoryPool.withScratch(Float.self, count: kc * (min(n, plan.nc) + nr)) { packedB in
            if plan.tile == .simd16 && a.rowsAreWindows && n <= narrowColumns {
                return narrow(m: m, n: n, k: k, a, b, c, ldc: ldc, accumulate: accumulate, plan: plan, packedB: packedB)
            }
            MemoryPool.withScratch(Float.self, count: packedACount) { packedA in
                let whole = packsWhole ? packWhole(a, m: m, k: k, plan: plan, into: packedA, parallel: false) : prepacked
                switch plan.tile {
                case .simd16:
                    blocked(SIMD16<Float>.self, m: m, n: n, k: k, a, b, c, ldc: ldc, accumulate: accumulate, plan: plan,
                            whole: whole, packedA: packedA, packedB: packedB)
                case .simd8:
                    blocked(SIMD8<Float>.self, m: m, n: n, k: k, a, b, c, ldc: ldc, accumulate: accumulate, plan: plan,
                            whole: whole, packedA: packedA, packedB: packedB)
                }
            }
        }
    }

    /// The widest C that `narrow` takes: one 512-bit vector.
    static let narrowColumns = 16

    /// C (+)= A · B for A read in place (shifted windows) and C at most one vector wide, with a tile
    /// of twelve rows by one 512-bit vector. The weight gradient of a layer with 16 output channels
    /// is such a product, and the usual tile, six rows by two vectors, spent half its arithmetic on
    /// the zero columns past C's edge (31 lanes of 32 for one output channel). Each element of C gets
    /// the same fused multiply-adds in the same order as in `blocked`, block after block of the
    /// plan's kc, so the result is the same to the bit.
    private static func narrow(m: Int, n: Int, k: Int, _ a: MatrixView<Float>, _ b: MatrixView<Float>,
                               _ c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, plan: GemmPlan,
                               packedB: UnsafeMutablePointer<Float>) {
        for p0 in stride(from: 0, to: k, by: plan.kc) {
            let kb = min(plan.kc, k - p0), add = accumulate || p0 > 0
            packB(b, rows: p0, kb, columns: 0, n, panelWidth: narrowColumns, into: packedB)
            for i0 in stride(from: 0, to: m, by: 2 * mr) {
                // The lower six rows of the last tile may lie past A: then they repeat the upper
                // ones, and are not stored.
                let rows = min(2 * mr, m - i0), lower = rows > mr
                tallKernel(kb, OffsetColumns(a, row: i0, column: p0, rows: min(mr, rows)),
                           OffsetColumns(a, row: lower ? i0 + mr : i0, column: p0, rows: lower ? rows - mr : rows),
                           packedB, c + i0 * ldc, ldc: ldc, rows: rows, columns: n, accumulate: add)
            }
        }
    }

    /// C[0..<rows, 0..<columns] (+)= A's twelve rows (`upper`, then `lower`) · a packed panel of
    /// B one 512-bit vector wide, over `k`.
    @inline(__always)
    private static func tallKernel<Upper: PanelColumns, Lower: PanelColumns>(
        _ k: Int, _ upper: Upper, _ lower: Lower, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, ldc: Int,
        rows: Int, columns: Int, accumulate: Bool) {
        typealias V = SIMD16<Float>
        var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V()
        var c6 = V(), c7 = V(), c8 = V(), c9 = V(), c10 = V(), c11 = V()
        for p in 0..<k {
            let row = UnsafeRawPointer(b + p &* narrowColumns).loadUnaligned(as: V.self)
            c0.addProduct(V(repeating: upper.value(p, 0)), row); c1.addProduct(V(repeating: upper.value(p, 1)), row)
            c2.addProduct(V(repeating: upper.value(p, 2)), row); c3.addProduct(V(repeating: upper.value(p, 3)), row)
            c4.addProduct(V(repeating: upper.value(p, 4)), row); c5.addProduct(V(repeating: upper.value(p, 5)), row)
            c6.addProduct(V(repeating: lower.value(p, 0)), row); c7.addProduct(V(repeating: lower.value(p, 1)), row)
            c8.addProduct(V(repeating: lower.value(p, 2)), row); c9.addProduct(V(repeating: lower.value(p, 3)), row)
            c10.addProduct(V(repeating: lower.value(p, 4)), row); c11.addProduct(V(repeating: lower.value(p, 5)), row)
        }
        @inline(__always) func store(_ r: Int, _ value: V) {
            guard r < rows else { return }
            let target = c + r * ldc
            if columns == narrowColumns {
                let sum = accumulate ? value + UnsafeRawPointer(target).loadUnaligned(as: V.self) : value
                UnsafeMutableRawPointer(target).storeBytes(of: sum, as: V.self)
            } else {
                for col in 0..<columns { target[col] = accumulate ? target[col] + value[col] : value[col] }
            }
        }
        store(0, c0); store(1, c1); store(2, c2); store(3, c3); store(4, c4); store(5, c5)
        store(6, c6); store(7, c7); store(8, c8); store(9, c9); store(10, c10); store(11, c11)
    }

    /// The blocked loops around the micro-kernel, with the packing buffers supplied; the tile is
    /// 6 rows × two vectors of type `V`. With `whole`, A is already packed, all of it.
    @inline(__always)
    private static func blocked<V: SIMD>(_: V.Type, m: Int, n: Int, k: Int, _ a: MatrixView<Float>, _ b: MatrixView<Float>,
                                         _ c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, plan: GemmPlan,
                                         whole: PackedPanels?, packedA: UnsafeMutablePointer<Float>, packedB: UnsafeMutablePointer<Float>)
    where V.Scalar == Float {
        let nr = 2 * V.scalarCount
        // Shifted windows (rows of B at their own offsets, each contiguous) are read in place: a
        // full panel's rows are already contiguous runs of nr floats. Edge panels are packed.
        let inPlace = b.rowsAreWindows
        // Shifted windows as A are read in place too, six rows side by side: A is then never packed.
        let aInPlace = a.rowsAreWindows
        /// Runs the tiles of rows 0..<mb of packed A (panels of kb) — or, in place, of A's rows
        /// i0..<i0 + mb from column p0 — against one panel of B.
        @inline(__always) func tiles<Panel: PanelRows>(_ panel: Panel, _ packedA: UnsafePointer<Float>, rows mb: Int, depth kb: Int,
                                                       _ c: UnsafeMutablePointer<Float>, columns: Int, accumulate: Bool,
                                                       firstRow i0: Int = 0, column p0: Int = 0) {
            for ir in stride(from: 0, to: mb, by: mr) {
                let rows = min(mr, mb - ir)
                @inline(__always) func run<H: TileHeight>(_: H.Type) {
                    if aInPlace {
                        microKernel(V.self, H.self, kb, OffsetColumns(a, row: i0 + ir, column: p0, rows: rows), panel, c + ir * ldc,
                                    ldc: ldc, rows: rows, columns: columns, accumulate: accumulate)
                    } else {
                        microKernel(V.self, H.self, kb, PackedColumns(base: packedA + ir * kb), panel, c + ir * ldc, ldc: ldc,
                                    rows: rows, columns: columns, accumulate: accumulate)
                    }
                }
                // A's last rows (16 = 6 + 6 + 4 channels, say) take a shorter tile.
                switch rows {
                case ...2: run(TwoRows.self)
                case ...4: run(FourRows.self)
                default: run(SixRows.self)
                }
            }
        }
        if let whole, paddedRows(m) * k <= plan.residentA {
            // All of A packed and in cache: then each panel of B runs through every block of k
            // before the next panel, so its tiles of C stay in cache instead of going to memory
            // once per block.
            for jr in stride(from: 0, to: n, by: nr) {
                let columns = min(nr, n - jr)
                for p0 in stride(from: 0, to: k, by: plan.kc) {
                    let kb = min(plan.kc, k - p0), add = accumulate || p0 > 0
                    let panels = whole.block(p0, row: 0, depth: kb)
                    if inPlace && columns == nr {
                        tiles(OffsetRows(base: b.base + jr, offsets: b.rowOffsets! + p0), panels, rows: m, depth: kb, c + jr,
                              columns: columns, accumulate: add)
                    } else {
                        packB(b, rows: p0, kb, columns: jr, columns, panelWidth: nr, into: packedB)
                        tiles(PackedRows(base: packedB, width: nr), panels, rows: m, depth: kb, c + jr, columns: columns, accumulate: add)
                    }
                }
            }
            return
        }
        for j0 in stride(from: 0, to: n, by: plan.nc) {
            let nb = min(plan.nc, n - j0)
            for p0 in stride(from: 0, to: k, by: plan.kc) {
                let kb = min(plan.kc, k - p0), add = accumulate || p0 > 0
                for i0 in stride(from: 0, to: m, by: plan.mc) {
                    let mb = min(plan.mc, m - i0)
                    // A's block: read in place, taken from A packed whole, or packed now.
                    var panels = UnsafePointer(packedA)
                    if let whole { panels = whole.block(p0, row: i0, depth: kb) } else if !aInPlace { packA(a, rows: i0, mb, columns: p0, kb, into: packedA) }
                    for jr in stride(from: 0, to: nb, by: nr) {
                        let columns = min(nr, nb - jr), tile = c + i0 * ldc + j0 + jr
                        if inPlace && columns == nr {
                            tiles(OffsetRows(base: b.base + j0 + jr, offsets: b.rowOffsets! + p0), panels, rows: mb, depth: kb, tile,
                                  columns: columns, accumulate: add, firstRow: i0, column: p0)
                            continue
                        }
                        // Each panel of B is packed just before the first block of A uses it, so
                        // that its tiles read it from L1 rather than the whole block back from L2.
                        if i0 == 0 { packB(b, rows: p0, kb, columns: j0 + jr, columns, panelWidth: nr, into: packedB + jr * kb) }
                        tiles(PackedRows(base: packedB + jr * kb, width: nr), panels, rows: mb, depth: kb, tile, columns: columns,
                              accumulate: add, firstRow: i0, column: p0)
                    }
                }
            }
        }
    }

    /// Panels of `mr` rows: for each p, the mr values A[i..<i+mr, p] (zero beyond the edge).
    private static func packA(_ a: MatrixView<Float>, rows i0: Int, _ mb: Int, columns p0: Int, _ kb: Int,
                              into packed: UnsafeMutablePointer<Float>) {
        var out = packed
        for ir in stride(from: 0, to: mb, by: mr) {
            let rows = min(mr, mb - ir)
            if rows == mr && a.rowsAreContiguous {
                // Six rows read side by side, each contiguous along p.
                let r0 = a.base + a.rowOffset(i0 + ir) + p0, r1 = a.base + a.rowOffset(i0 + ir + 1) + p0
                let r2 = a.base + a.rowOffset(i0 + ir + 2) + p0, r3 = a.base + a.rowOffset(i0 + ir + 3) + p0
                let r4 = a.base + a.rowOffset(i0 + ir + 4) + p0, r5 = a.base + a.rowOffset(i0 + ir + 5) + p0
                for p in 0..<kb {
                    out[0] = r0[p]; out[1] = r1[p]; out[2] = r2[p]; out[3] = r3[p]; out[4] = r4[p]; out[5] = r5[p]
                    out += mr
                }
                continue
            }
            for p in 0..<kb {
                for r in 0..<mr { out[r] = r < rows ? a[i0 + ir + r, p0 + p] : 0 }
                out += mr
            }
        }
    }

    /// Panels of `panelWidth` columns: for each p, B[p, j..<j+panelWidth] (zero beyond the edge).
    private static func packB(_ b: MatrixView<Float>, rows p0: Int, _ kb: Int, columns j0: Int, _ nb: Int, panelWidth nr: Int,
                              into packed: UnsafeMutablePointer<Float>) {
        var out = packed
        for jr in stride(from: 0, to: nb, by: nr) {
            let columns = min(nr, nb - jr)
            if b.columnsAreContiguous && !b.rowsAreContiguous {
                // A transposed B: each column runs contiguously along p, so read column by column.
                if columns < nr { out.update(repeating: 0, count: kb * nr) }
                var col = 0
                while col + 4 <= columns {
                    // Four columns at a time, so that each step writes four neighbouring floats.
                    let s0 = b.base + (j0 + jr + col) * b.columnStride + p0, s1 = b.base + (j0 + jr + col + 1) * b.columnStride + p0
                    let s2 = b.base + (j0 + jr + col + 2) * b.columnStride + p0, s3 = b.base + (j0 + jr + col + 3) * b.columnStride + p0
                    let target = UnsafeMutableRawPointer(out + col)
                    for p in 0..<kb {
                        target.storeBytes(of: SIMD4(s0[p], s1[p], s2[p], s3[p]), toByteOffset: p &* nr &* 4, as: SIMD4<Float>.self)
                    }
                    col += 4
                }
                for col in col..<columns {
                    let source = b.base + (j0 + jr + col) * b.columnStride + p0
                    for p in 0..<kb { out[p &* nr &+ col] = source[p] }
                }
                out += kb * nr
                continue
            }
            for p in 0..<kb {
                if columns == nr && b.rowsAreContiguous {
                    copyPanelRow(from: b.base + b.rowOffset(p0 + p) + j0 + jr, to: out, count: nr)
                } else {
                    for col in 0..<nr { out[col] = col < columns ? b[p0 + p, j0 + jr + col] : 0 }
                }
                out += nr
            }
        }
    }

    /// Copies `count` floats (a multiple of 16) with vector loads and stores: a library call per
    /// panel row costs more than the copy.
    @inline(__always)
    private static func copyPanelRow(from source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>, count: Int) {
        let (source, target) = (UnsafeRawPointer(source), UnsafeMutableRawPointer(target))
        let (bytes, vectorBytes) = (count &* MemoryLayout<Float>.size, MemoryLayout<SIMD16<Float>>.size)
        var offset = 0
        while offset < bytes {
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self), toByteOffset: offset,
                              as: SIMD16<Float>.self)
            offset &+= vectorBytes
        }
    }

    /// C[0..<rows, 0..<columns] (+)= Apanel · Bpanel over `k`, with a register tile of `H.rows` ≤ 6
    /// rows × 2 vectors (`rows` ≤ `H.rows` of them stored). The tile's height is a type, so that
    /// each height compiles to a loop without the other rows' multiplications.
    @inline(__always)
    private static func microKernel<V: SIMD, H: TileHeight, APanel: PanelColumns, Panel: PanelRows>(
        _: V.Type, _: H.Type, _ k: Int, _ a: APanel, _ b: Panel, _ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int,
        columns: Int, accumulate: Bool) where V.Scalar == Float {
        let width = V.scalarCount, bytes = MemoryLayout<V>.size
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        for p in 0..<k {
            let row = b.row(p)
            let b0 = row.loadUnaligned(as: V.self), b1 = row.loadUnaligned(fromByteOffset: bytes, as: V.self)
            var s = V(repeating: a.value(p, 0)); c00.addProduct(s, b0); c01.addProduct(s, b1)
            s = V(repeating: a.value(p, 1)); c10.addProduct(s, b0); c11.addProduct(s, b1)
            if H.rows > 2 {
                s = V(repeating: a.value(p, 2)); c20.addProduct(s, b0); c21.addProduct(s, b1)
                s = V(repeating: a.value(p, 3)); c30.addProduct(s, b0); c31.addProduct(s, b1)
            }
            if H.rows > 4 {
                s = V(repeating: a.value(p, 4)); c40.addProduct(s, b0); c41.addProduct(s, b1)
                s = V(repeating: a.value(p, 5)); c50.addProduct(s, b0); c51.addProduct(s, b1)
            }
        }
        if columns == 2 * width {
            @inline(__always) func store(_ r: Int, _ lo: V, _ hi: V) {
                guard r < rows else { return }
                let row = UnsafeMutableRawPointer(c + r * ldc)
                var lo = lo, hi = hi
                if accumulate {
                    lo += row.loadUnaligned(as: V.self)
                    hi += row.loadUnaligned(fromByteOffset: bytes, as: V.self)
                }
                row.storeBytes(of: lo, as: V.self)
                row.storeBytes(of: hi, toByteOffset: bytes, as: V.self)
            }
            store(0, c00, c01); store(1, c10, c11); store(2, c20, c21)
            store(3, c30, c31); store(4, c40, c41); store(5, c50, c51)
        } else {
            // An edge tile: spill the registers, then write only the part inside C.
            withUnsafeTemporaryAllocation(of: V.self, capacity: 2 * mr) { tile in
                tile[0] = c00; tile[1] = c01; tile[2] = c10; tile[3] = c11; tile[4] = c20; tile[5] = c21
                tile[6] = c30; tile[7] = c31; tile[8] = c40; tile[9] = c41; tile[10] = c50; tile[11] = c51
                for r in 0..<rows {
                    for col in 0..<columns {
                        let value = tile[2 * r + col / width][col % width]
                        c[r * ldc + col] = accumulate ? c[r * ldc + col] + value : value
                    }
                }
            }
        }
    }
}

/// The rows of C a micro-kernel computes: six, or fewer for a tile at A's lower edge.
protocol TileHeight { static var rows: Int { get } }
enum TwoRows: TileHeight { static var rows: Int { 2 } }
enum FourRows: TileHeight { static var rows: Int { 4 } }
enum SixRows: TileHeight { static var rows: Int { 6 } }

/// Where the micro-kernel finds row p of its panel of B (nr floats, contiguous).
protocol PanelRows {
    func row(_ p: Int) -> UnsafeRawPointer
}

/// A packed panel: its rows one after another, `width` floats each.
struct PackedRows: PanelRows {
    let base: UnsafePointer<Float>, width: Int
    @inline(__always) func row(_ p: Int) -> UnsafeRawPointer { UnsafeRawPointer(base + p &* width) }
}

/// Rows of B read in place, each at its own offset from `base` (the shifted windows of a convolution).
struct OffsetRows: PanelRows {
    let base: UnsafePointer<Float>, offsets: UnsafePointer<Int>
    @inline(__always) func row(_ p: Int) -> UnsafeRawPointer { UnsafeRawPointer(base + offsets[p]) }
}

/// Where the micro-kernel finds A[r, p] for the six rows r of its tile.
protocol PanelColumns {
    func value(_ p: Int, _ r: Int) -> Float
}

/// A packed panel: for each p, its six values side by side.
struct PackedColumns: PanelColumns {
    let base: UnsafePointer<Float>
    @inline(__always) func value(_ p: Int, _ r: Int) -> Float { base[p &* 6 &+ r] }
}

/// Six rows of A read in place, each contiguous along p; rows past A's edge repeat its last row
/// (their results are not stored).
struct OffsetColumns: PanelColumns {
    let r0, r1, r2, r3, r4, r5: UnsafePointer<Float>

    init(_ a: MatrixView<Float>, row i: Int, column p: Int, rows: Int) {
        func start(_ r: Int) -> UnsafePointer<Float> { a.base + a.rowOffset(i + min(r, rows - 1)) + p }
        (r0, r1, r2, r3, r4, r5) = (start(0), start(1), start(2), start(3), start(4), start(5))
    }

    @inline(__always) func value(_ p: Int, _ r: Int) -> Float {
        switch r {
        case 0: r0[p]
        case 1: r1[p]
        case 2: r2[p]
        case 3: r3[p]
        case 4: r4[p]
        default: r5[p]
        }
    }
}

