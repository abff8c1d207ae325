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
        let executable = try BuiltProduct.url(product)
        self.output = output ?? FileManager.default.temporaryDirectory.appendingPathComponent("\(product)-\(UUID())")
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments + (addOutput ? ["--out", self.output.path] : [])
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // A file rather than a pipe: a pipe that is not read while we wait would fill and stall the child.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(product)-\(UUID()).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        if let watched {
            let file = self.output.appendingPathComponent(watched).path
            while process.isRunning && !FileManager.default.fileExists(atPath: file) { usleep(2_000) }
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        try handle.close()
        standardOutput = String(decoding: try Data(contentsOf: log), as: UTF8.self)
        status = process.terminationStatus
    }

    /// The run manifest's final metrics.
    func metrics() throws -> [String: Double] {
        let data = try Data(contentsOf: output.appendingPathComponent("manifest.json"))
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return (object?["metrics"] as? [String: Any])?.compactMapValues { ($0 as? NSNumber)?.doubleValue } ?? [:]
    }

    func fileExists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: output.appendingPathComponent(name).path) }

    func removeOutput() { try? FileManager.default.removeItem(at: output) }
}
