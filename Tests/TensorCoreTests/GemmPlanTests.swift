import Foundation
import Testing
@testable import TensorCore

/// The GEMM plans itself from the processor, and every tile it can choose computes the same product
/// as the triple loop on this machine, whichever one this machine would pick.
@Suite struct GemmPlanTests {
    /// The plans of two machines seen here, and a small one, from their cache sizes alone.
    @Test func blocksFollowTheCaches() {
        let xeon = Processor(model: "Xeon", vectorBits: 512, vectorRegisters: 32,
                             level1Bytes: 48 << 10, level2Bytes: 2 << 20, level3Bytes: 300 << 20)
        let plan = GemmPlan(for: xeon, threads: 2)
        #expect(plan.tile == .simd16)
        #expect(plan.kc == 192)                        // 192 × 32 floats = 24 KiB, half of L1
        #expect(plan.mc == 1362)                       // 1362 × 192 floats ≈ 1 MiB, half of L2
        #expect(plan.nc == 4096)                       // capped
        let avx2 = Processor(model: "AVX2", vectorBits: 256, vectorRegisters: 16,
                             level1Bytes: 32 << 10, level2Bytes: 512 << 10, level3Bytes: 8 << 20)
        let small = GemmPlan(for: avx2, threads: 2)
        #expect(small.tile == .simd8 && small.kc == 256 && small.mc == 252 && small.nc == 1024)
        #expect(GemmPlan(for: xeon, tile: .simd8, threads: 2).kc == 384)
    }

    @Test func cacheSizesParseAsSysfsWritesThem() {
        #if os(Linux)
        #expect(Processor.parseSize("48K") == 48 << 10)
        #expect(Processor.parseSize("2048K") == 2 << 20)
        #expect(Processor.parseSize("32M") == 32 << 20)
        #expect(Processor.parseSize("512") == 512)
        #expect(Processor.parseSize("") == nil && Processor.parseSize("K") == nil && Processor.parseSize("4X") == nil)
        #endif
    }

    /// Each tile, with the machine's blocks and with blocks small enough that every edge is crossed
    /// (several kc, mc and nc blocks, partial tiles), A packed per block, whole, or once for several
    /// products (`withPrepared`), on every operand layout the kernels pack or read in place:
    /// row-major, transposed, and rows taken from offset tables. A tall, thin product with enough
    /// work for every thread splits A's rows between them, prepared or not.
    @Test(arguments: GemmPlan.Tile.allCases)
    func everyTileMatchesTheTripleLoop(_ tile: GemmPlan.Tile) {
        let machine = GemmPlan(for: .current, tile: tile)
        // Small blocks with A packed block by block, and with A packed whole (resident).
        let tiny = GemmPlan(tile: tile, kc: 16, mc: 12, nc: 2 * tile.columns, residentA: 0)
        let tinyResident = GemmPlan(tile: tile, kc: 16, mc: 12, nc: 2 * tile.columns, residentA: 1 << 20)
        for plan in [machine, tiny, tinyResident] {
            for (m, n, k) in [(1, 1, 1), (6, 32, 16), (7, 33, 300), (13, 100, 257), (97, 17, 5), (29, 16, 400), (13, 9, 70)] {
                for layout in Layout.allCases {
                    let worst = worstDifference(m: m, n: n, k: k, layout: layout, plan: plan)
                    #expect(worst <= 1e-5 * Float(k).squareRoot(), "\(plan), \(m)×\(n)×\(k), \(layout): worst \(worst)")
                }
            }
            for layout in [Layout.rowMajor, .preparedA] {
                let (m, n, k) = (600, 20, 800)
                #expect(m * n * k >= PackedFloatGemm.minimumParallelProducts)
                let worst = worstDifference(m: m, n: n, k: k, layout: layout, plan: plan)
                #expect(worst <= 1e-5 * Float(k).squareRoot(), "\(plan), \(m)×\(n)×\(k), \(layout): worst \(worst)")
            }
        }
    }

    /// Windows of A times a C at most 16 wide take the twelve-row, one-vector tile on 512-bit
    /// machines: the same bytes as the same A read row-major through the usual tile (which packs
    /// it), accumulating or not, for full and partial tiles, one block of k and several.
    @Test func narrowProductsGiveTheUsualTilesBytes() {
        let plans = [GemmPlan(for: .current, tile: .simd16),
                     GemmPlan(tile: .simd16, kc: 16, mc: 12, nc: 64, residentA: 0)]
        for plan in plans {
            for (m, n, k) in [(1, 1, 1), (12, 16, 40), (13, 9, 300), (30, 16, 500), (7, 1, 257), (25, 15, 33)] {
                var rng = RandomGenerator(seed: UInt64(m * 1000 + n * 10 + k))
                let room = m * k + 11
                let a = (0..<room).map { _ in Float(rng.nextUniform() * 2 - 1) }
                let b = (0..<(k * n)).map { _ in Float(rng.nextUniform() * 2 - 1) }
                let start = (0..<(m * n)).map { _ in Float(rng.nextUniform()) }
                let offsets = (0..<m).map { ($0 * 5 + 2) % (room - k) }
                let rows = offsets.flatMap { a[$0..<($0 + k)] }
                for accumulate in [false, true] {
                    var narrow = start, usual = start
                    a.withUnsafeBufferPointer { a in
                        rows.withUnsafeBufferPointer { rows in
                            b.withUnsafeBufferPointer { b in
                                offsets.withUnsafeBufferPointer { offsets in
                                    let windows = MatrixView(base: a.baseAddress!, rowStride: 0, columnStride: 1, rowOffsets: offsets.baseAddress!)
                                    let rowMajor = MatrixView(base: rows.baseAddress!, rowStride: k, columnStride: 1)
                                    let viewB = MatrixView(base: b.baseAddress!, rowStride: n, columnStride: 1)
                                    narrow.withUnsafeMutableBufferPointer {
                                        MatrixMultiply.multiply(m: m, n: n, k: k, windows, viewB, $0.baseAddress!, ldc: n,
                                                                accumulate: accumulate, plan: plan)
                                    }
                                    usual.withUnsafeMutableBufferPointer {
                                        MatrixMultiply.multiply(m: m, n: n, k: k, rowMajor, viewB, $0.baseAddress!, ldc: n,
                                                                accumulate: accumulate, plan: plan)
                                    }
                                }
                            }
                        }
                    }
                    #expect(narrow.map(\.bitPattern) == usual.map(\.bitPattern), "\(plan), \(m)×\(n)×\(k), accumulate \(accumulate)")
                    #expect(narrow != start)
                }
            }
        }
    }

    enum Layout: CaseIterable { case rowMajor, transposedA, rowOffsetsA, transposedB, rowOffsetsB, accumulated, preparedA }

    private func worstDifference(m: Int, n: Int, k: Int, layout: Layout, plan: GemmPlan) -> Float {
        var rng = RandomGenerator(seed: UInt64(m * 1000 + n * 10 + k))
        let a = (0..<(m * k + 7)).map { _ in Float(rng.nextUniform() * 2 - 1) }
        let b = (0..<(k * n + 7)).map { _ in Float(rng.nextUniform() * 2 - 1) }
        let start = (0..<(m * n)).map { _ in Float(rng.nextUniform()) }
        // Offset tables that skip around inside b and a, as shifted windows do: row p of B starts
        // at (p·n + 3) mod room, row i of A at (i·k + 2) mod room.
        let offsets = (0..<k).map { ($0 * n + 3) % (k * n + 7 - n) } + (0..<m).map { ($0 * k + 2) % (m * k + 7 - k) }
        var fast = start, reference = start
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                offsets.withUnsafeBufferPointer { offsets in
                    let (pa, pb, tables) = (a.baseAddress!, b.baseAddress!, offsets.baseAddress!)
                    var viewA = MatrixView(base: pa, rowStride: k, columnStride: 1)
                    var viewB = MatrixView(base: pb, rowStride: n, columnStride: 1)
                    switch layout {
                    case .rowMajor, .accumulated, .preparedA: break
                    case .transposedA: viewA = MatrixView(base: pa, rowStride: 1, columnStride: m)
                    case .rowOffsetsA: viewA = MatrixView(base: pa, rowStride: 0, columnStride: 1, rowOffsets: tables + k)
                    case .transposedB: viewB = MatrixView(base: pb, rowStride: 1, columnStride: k)
                    case .rowOffsetsB: viewB = MatrixView(base: pb, rowStride: 0, columnStride: 1, rowOffsets: tables)
                    }
                    let accumulate = layout == .accumulated
                    fast.withUnsafeMutableBufferPointer { c in
                        if layout == .preparedA {
                            MatrixMultiply.withPrepared(viewA, m: m, k: k, plan: plan) { prepared in
                                MatrixMultiply.multiply(n: n, prepared, viewB, c.baseAddress!, ldc: n, accumulate: false, plan: plan)
                            }
                        } else {
                            MatrixMultiply.multiply(m: m, n: n, k: k, viewA, viewB, c.baseAddress!, ldc: n, accumulate: accumulate, plan: plan)
                        }
                    }
                    reference.withUnsafeMutableBufferPointer {
                        MatrixMultiply.reference(m: m, n: n, k: k, viewA, viewB, $0.baseAddress!, ldc: n, accumulate: accumulate)
                    }
                }
            }
        }
        return zip(fast, reference).map { Swift.abs($0 - $1) }.max() ?? 0
    }
}
