import Foundation
import Testing

/// Runs a chapter executable (built beside the test bundle) and reads back what it wrote.
struct ChapterRun {
    let output: URL
    let standardOutput: String
    let status: Int32

    /// Runs `product` with `arguments` plus (when `addOutput`) `--out` pointing at a fresh temporary folder.
    init(_ product: String, _ arguments: [String], addOutput: Bool = true) throws {
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [products, products.deletingLastPathComponent()].map { $0.appendingPathComponent(product) }
        guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) })
                ?? Self.searchBuildFolder(product) else {
            throw ChapterRunError(problem: "cannot find the \(product) executable near \(products.path)")
        }
        output = FileManager.default.temporaryDirectory.appendingPathComponent("\(product)-\(UUID())")
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments + (addOutput ? ["--out", output.path] : [])
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        standardOutput = String(decoding: data, as: UTF8.self)
        status = process.terminationStatus
    }

    private static func searchBuildFolder(_ product: String) -> URL? {
        var directory = URL(fileURLWithPath: #filePath)
        while directory.path != "/" {
            directory.deleteLastPathComponent()
            for configuration in ["debug", "release"] {
                let url = directory.appendingPathComponent(".build/\(configuration)/\(product)")
                if FileManager.default.isExecutableFile(atPath: url.path) { return url }
            }
        }
        return nil
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

struct ChapterRunError: Error, CustomStringConvertible {
    let problem: String
    var description: String { problem }
}
