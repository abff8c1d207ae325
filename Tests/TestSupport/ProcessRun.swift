import Foundation

/// A process run to its end, with what it printed.
public struct ProcessRun {
    public let standardOutput: String
    public let standardError: String
    public let status: Int32

    /// Runs `executable` with `arguments`, and `environment` added to this process's.
    ///
    /// Both outputs go to files rather than pipes: a pipe that is not read while we wait would
    /// fill and stall the child. With `mergingOutputs` they go to one file, interleaved as a reader
    /// sees them in a terminal, and `standardError` is empty. With `killWhen`, the process is killed
    /// (SIGKILL, as a crash or a power cut would) as soon as that condition holds.
    public init(_ executable: URL, _ arguments: [String], environment: [String: String] = [:],
                mergingOutputs: Bool = false, killWhen shouldKill: (() -> Bool)? = nil) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let logs = (mergingOutputs ? ["log"] : ["out", "err"])
            .map { FileManager.default.temporaryDirectory.appendingPathComponent("\(executable.lastPathComponent)-\(UUID()).\($0)") }
        for log in logs { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
        defer { for log in logs { try? FileManager.default.removeItem(at: log) } }
        let handles = try logs.map { try FileHandle(forWritingTo: $0) }
        process.standardOutput = handles[0]
        process.standardError = handles[handles.count - 1]
        try process.run()
        if let shouldKill {
            while process.isRunning && !shouldKill() { usleep(2_000) }
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        for handle in handles { try handle.close() }
        let texts = try logs.map { String(decoding: try Data(contentsOf: $0), as: UTF8.self) }
        (standardOutput, standardError, status) = (texts[0], mergingOutputs ? "" : texts[1], process.terminationStatus)
    }

    /// Runs the executable `product` of this package (see ``BuiltProduct``).
    public init(product: String, _ arguments: [String]) throws {
        try self.init(try BuiltProduct.url(product), arguments)
    }

    /// Runs `python3` (found on the `PATH`) with `arguments`.
    public init(python arguments: [String]) throws {
        try self.init(URL(fileURLWithPath: "/usr/bin/env"), ["python3"] + arguments)
    }
}
