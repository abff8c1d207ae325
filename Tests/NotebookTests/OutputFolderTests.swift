import Foundation
import Testing
@testable import Notebook

/// What a run does to its output folder before it starts.
@Suite struct OutputFolderTests {
    private func folder(holding names: [String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("output-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for name in names { try Data("x".utf8).write(to: url.appendingPathComponent(name)) }
        return url
    }

    @Test func temporariesOfAnInterruptedWriteAreRemoved() throws {
        let stale = ".dcgan.safetensors.\(Int32.max).tmp"                   // no process has this id
        let url = try folder(holding: [stale, "dcgan.safetensors"])
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(Notebook.prepare(url, resume: true) == ["removed \(stale), left by a checkpoint write that was interrupted"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: url.path) == ["dcgan.safetensors"])
        #expect(Notebook.prepare(url, resume: true).isEmpty)
    }

    /// `--resume` with nothing to resume says so; the run then starts from the beginning.
    @Test func resumeWithoutACheckpointSaysSo() throws {
        let url = try folder(holding: [".vae.safetensors.\(Int32.max).tmp", "samples.png"])
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(Notebook.prepare(url, resume: true).last == "--resume: no checkpoint in \(url.relativePath) to continue from; starting from the beginning")
        #expect(Notebook.prepare(url, resume: false).isEmpty)
    }
}
