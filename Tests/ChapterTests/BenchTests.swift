import Foundation
import Testing

/// `Bench` names the machine and the GEMM plan before any figure, and a forced tile is used or,
/// when it names no tile, refused with the reason.
@Suite struct BenchTests {
    private func lines(_ run: ChapterRun) throws -> [[String: Any]] {
        try run.standardOutput.split(separator: "\n").filter { $0.hasPrefix("{") }.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func machineLineComesFirstAndEachTileCanBeForced() throws {
        for tile in ["6x16", "6x32"] {
            let run = try ChapterRun("Bench", ["--only", "gemm", "--reps", "1", "--warmup", "0", "--threads", "1"], addOutput: false,
                                     environment: ["GENERATIVE_SWIFT_GEMM_TILE": tile])
            #expect(run.status == 0, "\(run.standardOutput)")
            let records = try lines(run)
            #expect(records.first?["workload"] as? String == "machine")
            #expect(records.first?["gemm_tile"] as? String == tile)
            #expect((records.first?["processor"] as? String)?.isEmpty == false)
            #expect((records.first?["l1_bytes"] as? Int ?? 0) > 0 && records.first?["threads"] as? Int == 1)
            let sizes = records.dropFirst().compactMap { $0["workload"] as? String == "gemm" ? $0["n"] as? Int : nil }
            #expect(sizes == [256, 512, 1024])
            #expect(records.dropFirst().allSatisfy { ($0["value"] as? Double ?? 0) > 0 })
        }
    }

    @Test func aTileThatDoesNotExistIsRefused() throws {
        let run = try ChapterRun("Bench", ["--only", "gemm", "--reps", "1"], addOutput: false,
                                 environment: ["GENERATIVE_SWIFT_GEMM_TILE": "7x7"])
        #expect(run.status != 0)
        #expect(run.standardOutput.contains("GENERATIVE_SWIFT_GEMM_TILE=7x7 names no tile; use 6x16 or 6x32"))
        #expect(try lines(run).isEmpty)
    }
}
