import Foundation
import TestSupport

/// Runs an executable of this package (built beside the test bundle) and collects what it printed.
struct CommandRun {
    let standardOutput: String
    let standardError: String
    let status: Int32

    init(_ product: String, _ arguments: [String]) throws {
        let executable = try BuiltProduct.url(product)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        // Standard error goes to a file, so that a full pipe can never block the process.
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("\(product)-stderr-\(UUID())")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        standardOutput = String(decoding: outputData, as: UTF8.self)
        standardError = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
        status = process.terminationStatus
    }
}
