import Foundation
import Testing
import TestSupport

/// Runs a chapter executable (built beside the test bundle) and reads back what it wrote.
struct ChapterRun {
    let output: URL
    let standardOutput: String
    let status: Int32

    /// Runs `product` with `arguments` plus (when `addOutput`) `--out` pointing at `output` or a fresh
    /// temporary folder, and `environment` added to this process's. With `killWhenFileAppears`, the
    /// process is killed (SIGKILL, as a crash or a power cut would) as soon as that file shows up in
    /// the output folder.
    init(_ product: String, _ arguments: [String], addOutput: Bool = true, output: URL? = nil,
         environment: [String: String] = [:], killWhenFileAppears watched: String? = nil) throws {
        let output = output ?? FileManager.default.temporaryDirectory.appendingPathComponent("\(product)-\(UUID())")
        let run = try ProcessRun(try BuiltProduct.url(product), arguments + (addOutput ? ["--out", output.path] : []),
                                 environment: environment, mergingOutputs: true,
                                 killWhen: watched.map { name in { FileManager.default.fileExists(atPath: output.appendingPathComponent(name).path) } })
        (self.output, standardOutput, status) = (output, run.standardOutput, run.status)
    }

    /// The run manifest's final metrics.
    func metrics() throws -> [String: Double] {
        let data = try Data(contentsOf: output.appendingPathComponent("manifest.json"))
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return (object?["metrics"] as? [String: Any])?.compactMapValues { ($0 as? NSNumber)?.doubleValue } ?? [:]
    }

    func fileExists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: output.appendingPathComponent(name).path) }

    func removeOutput() { try? FileManager.default.removeItem(at: output) }

    /// Runs `chapter --quick --seed seed` in a fresh folder, expects it to end with status 0 and to
    /// have written each of `files`, hands `check` the run and its final metrics, and removes the
    /// folder afterwards: the opening every chapter's quick-run test shares.
    static func quick(_ chapter: String, seed: Int, writing files: [String], sourceLocation: SourceLocation = #_sourceLocation,
                      _ check: (_ run: ChapterRun, _ metrics: [String: Double]) throws -> Void) throws {
        let run = try ChapterRun(chapter, ["--quick", "--seed", String(seed)])
        defer { run.removeOutput() }
        #expect(run.status == 0, "\(run.standardOutput.suffix(3000))", sourceLocation: sourceLocation)
        for file in files { #expect(run.fileExists(file), "missing \(file)", sourceLocation: sourceLocation) }
        try check(run, try run.metrics())
    }
}
