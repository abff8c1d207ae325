import Foundation

/// A strided view of a matrix: element (i, j) is at `base[i * rowStride + j * columnStride]`.
/// A transposed matrix is the same memory with the strides swapped.
///
/// Either axis may instead take its offsets from a table: with `rowOffsets`, row i starts at
/// `base + rowOffsets[i]`. A stride-1 convolution reads its unfolded input this way, each row a
/// window into a padded plane (see `ShiftedConvolution.swift`).
struct MatrixView<T: TensorScalar> {
    var base: UnsafePointer<T>
    var rowStride: Int
    var columnStride: Int
    var rowOffsets: UnsafePointer<Int>? = nil
    var columnOffsets: UnsafePointer<Int>? = nil

    @inline(__always) func rowOffset(_ i: Int) -> Int { rowOffsets.map { $0[i] } ?? i * rowStride }
    @inline(__always) func columnOffset(_ j: Int) -> Int { columnOffsets.map { $0[j] } ?? j * columnStride }
    @inline(__always) subscript(i: Int, j: Int) -> T { base[rowOffset(i) + columnOffset(j)] }

    var transposed: MatrixView {
        MatrixView(base: base, rowStride: columnStride, columnStride: rowStride, rowOffsets: columnOffsets, columnOffsets: rowOffsets)
    }

    /// Whether each row is contiguous in memory (the common row-major case).
    var rowsAreContiguous: Bool { columnStride == 1 && columnOffsets == nil }
    /// Whether each column is contiguous in memory (a transposed row-major matrix).
    var columnsAreContiguous: Bool { rowStride == 1 && rowOffsets == nil }

    /// The view of rows `i0...` and columns `j0...`.
    func from(row i0: Int = 0, column j0: Int = 0) -> MatrixView {
        var view = self
        if let rowOffsets { view.rowOffsets = rowOffsets + i0 } else { view.base += i0 * rowStride }
        if let columnOffsets { view.columnOffsets = columnOffsets + j0 } else { view.base += j0 * columnStride }
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
                                          _ c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool, parallel: Bool = true) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        if T.self == Float.self {
            let af = unsafeBitCast(a, to: MatrixView<Float>.self), bf = unsafeBitCast(b, to: MatrixView<Float>.self)
            let cf = UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self)
            PackedFloatGemm.multiply(m: m, n: n, k: k, af, bf, cf, ldc: ldc, accumulate: accumulate, parallel: parallel)
        } else {
            rowOrderLoop(m: m, n: n, k: k, a, b, c, ldc: ldc, accumulate: accumulate, parallel: parallel)
        }
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

/// The packed SIMD GEMM for Float.
///
/// B is copied into panels of `nr` columns and A into panels of 6 rows, each laid out in the order
/// the micro-kernel reads them; the micro-kernel keeps a 6×`nr` tile of C in twelve vector
/// registers and streams through k. Blocking by KC×MC keeps the packed panels in cache.
enum PackedFloatGemm {
    /// Whether the CPU has 512-bit vector registers (AVX-512). Then the tile is 6×32 in SIMD16s,
    /// which doubles the arithmetic per instruction; elsewhere it is 6×16 in SIMD8s, because
    /// twelve SIMD16 accumulators would not fit in sixteen 256-bit (or 128-bit NEON) registers.
    static let hasWideVectors: Bool = {
        #if os(Linux) && arch(x86_64)
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        return flags.split(separator: " ").contains("avx512f")
        #else
        return false
        #endif
    }()
    static let mr = 6
    static let nr = hasWideVectors ? 32 : 16
    static let kc = 256, mc = 96, nc = 2048

    static func multiply(m: Int, n: Int, k: Int, _ a: MatrixView<Float>, _ b: MatrixView<Float>,
                         _ c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, parallel: Bool) {
        // Split C into column stripes (or row stripes when it is tall and thin), one per task.
        let tasks = parallel ? Parallel.threadCount : 1
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
                serial(m: m, n: j1 - j0, k: k, a, b.from(column: j0), cBox.value + j0, ldc: ldc, accumulate: accumulate)
            } else {
                let i0 = first * mr, i1 = min(m, last * mr)
                guard i1 > i0 else { return }
                serial(m: i1 - i0, n: n, k: k, a.from(row: i0), b, cBox.value + i0 * ldc, ldc: ldc, accumulate: accumulate)
            }
        }
    }

    private static func serial(m: Int, n: Int, k: Int, _ a: MatrixView<Float>, _ b: MatrixView<Float>,
                               _ c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        MemoryPool.withScratch(Float.self, count: kc * (min(n, nc) + nr)) { packedB in
            MemoryPool.withScratch(Float.self, count: kc * (min(m, mc) + mr)) { packedA in
                blocked(m: m, n: n, k: k, a, b, c, ldc: ldc, accumulate: accumulate, packedA: packedA, packedB: packedB)
            }
        }
    }

    /// The blocked loops around the micro-kernel, with the packing buffers supplied.
    private static func blocked(m: Int, n: Int, k: Int, _ a: MatrixView<Float>, _ b: MatrixView<Float>,
                                _ c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                                packedA: UnsafeMutablePointer<Float>, packedB: UnsafeMutablePointer<Float>) {
        for j0 in stride(from: 0, to: n, by: nc) {
            let nb = min(nc, n - j0)
            for p0 in stride(from: 0, to: k, by: kc) {
                let kb = min(kc, k - p0)
                packB(b, rows: p0, kb, columns: j0, nb, into: packedB)
                for i0 in stride(from: 0, to: m, by: mc) {
                    let mb = min(mc, m - i0)
                    packA(a, rows: i0, mb, columns: p0, kb, into: packedA)
                    for jr in stride(from: 0, to: nb, by: nr) {
                        for ir in stride(from: 0, to: mb, by: mr) {
                            let (panelA, panelB, tile) = (packedA + ir * kb, packedB + jr * kb, c + (i0 + ir) * ldc + j0 + jr)
                            let (rows, columns, add) = (min(mr, mb - ir), min(nr, nb - jr), accumulate || p0 > 0)
                            if hasWideVectors {
                                microKernel(SIMD16<Float>.self, kb, panelA, panelB, tile, ldc: ldc, rows: rows, columns: columns, accumulate: add)
                            } else {
                                microKernel(SIMD8<Float>.self, kb, panelA, panelB, tile, ldc: ldc, rows: rows, columns: columns, accumulate: add)
                            }
                        }
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
            for p in 0..<kb {
                for r in 0..<mr { out[r] = r < rows ? a[i0 + ir + r, p0 + p] : 0 }
                out += mr
            }
        }
    }

    /// Panels of `nr` columns: for each p, the nr values B[p, j..<j+nr] (zero beyond the edge).
    private static func packB(_ b: MatrixView<Float>, rows p0: Int, _ kb: Int, columns j0: Int, _ nb: Int,
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
                    let s0 = b.base + b.columnOffset(j0 + jr + col) + p0, s1 = b.base + b.columnOffset(j0 + jr + col + 1) + p0
                    let s2 = b.base + b.columnOffset(j0 + jr + col + 2) + p0, s3 = b.base + b.columnOffset(j0 + jr + col + 3) + p0
                    let target = UnsafeMutableRawPointer(out + col)
                    for p in 0..<kb {
                        target.storeBytes(of: SIMD4(s0[p], s1[p], s2[p], s3[p]), toByteOffset: p &* nr &* 4, as: SIMD4<Float>.self)
                    }
                    col += 4
                }
                for col in col..<columns {
                    let source = b.base + b.columnOffset(j0 + jr + col) + p0
                    for p in 0..<kb { out[p &* nr &+ col] = source[p] }
                }
                out += kb * nr
                continue
            }
            for p in 0..<kb {
                if columns == nr && b.rowsAreContiguous {
                    copyPanelRow(from: b.base + b.rowOffset(p0 + p) + j0 + jr, to: out)
                } else {
                    for col in 0..<nr { out[col] = col < columns ? b[p0 + p, j0 + jr + col] : 0 }
                }
                out += nr
            }
        }
    }

    /// Copies `nr` floats with vector loads and stores: a library call per 32 floats costs more
    /// than the copy.
    @inline(__always)
    private static func copyPanelRow(from source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>) {
        let (source, target) = (UnsafeRawPointer(source), UnsafeMutableRawPointer(target))
        let (bytes, vectorBytes) = (nr &* MemoryLayout<Float>.size, MemoryLayout<SIMD16<Float>>.size)
        var offset = 0
        while offset < bytes {
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self), toByteOffset: offset,
                              as: SIMD16<Float>.self)
            offset &+= vectorBytes
        }
    }

    /// C[0..<rows, 0..<columns] (+)= Apanel · Bpanel over `k`, with a 6 × (2 vectors) register tile.
    @inline(__always)
    private static func microKernel<V: SIMD>(_: V.Type, _ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                             _ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Int,
                                             accumulate: Bool) where V.Scalar == Float {
        let width = V.scalarCount, bytes = MemoryLayout<V>.size
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        let rawB = UnsafeRawPointer(b)
        var pa = a
        for p in 0..<k {
            let b0 = rawB.loadUnaligned(fromByteOffset: p * 2 * bytes, as: V.self)
            let b1 = rawB.loadUnaligned(fromByteOffset: p * 2 * bytes + bytes, as: V.self)
            var s = V(repeating: pa[0]); c00.addProduct(s, b0); c01.addProduct(s, b1)
            s = V(repeating: pa[1]); c10.addProduct(s, b0); c11.addProduct(s, b1)
            s = V(repeating: pa[2]); c20.addProduct(s, b0); c21.addProduct(s, b1)
            s = V(repeating: pa[3]); c30.addProduct(s, b0); c31.addProduct(s, b1)
            s = V(repeating: pa[4]); c40.addProduct(s, b0); c41.addProduct(s, b1)
            s = V(repeating: pa[5]); c50.addProduct(s, b0); c51.addProduct(s, b1)
            pa += 6
        }
        if rows == mr && columns == nr {
            @inline(__always) func store(_ r: Int, _ lo: V, _ hi: V) {
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
