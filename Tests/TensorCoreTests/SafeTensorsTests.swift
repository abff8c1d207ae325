import Foundation
import Testing
import TensorCore

@Suite struct SafeTensorsTests {
    /// Written by the Python `safetensors` package: weight F32 [[1.5, −2], [0.25, 3]], bias F64 [0.1], metadata step = 7.
    static let pythonWritten = "mAAAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJzdGVwIjoiNyJ9LCJiaWFzIjp7ImR0eXBlIjoiRjY0Iiwic2hhcGUiOlsxXSwiZGF0YV9vZmZzZXRzIjpbMCw4XX0sIndlaWdodCI6eyJkdHlwZSI6IkYzMiIsInNoYXBlIjpbMiwyXSwiZGF0YV9vZmZzZXRzIjpbOCwyNF19fSAgICAgIJqZmZmZmbk/AADAPwAAAMAAAIA+AABAQA=="

    @Test func readsWhatPythonWrote() throws {
        let file = try SafeTensors(data: Data(base64Encoded: Self.pythonWritten)!)
        #expect(file.metadata == ["step": "7"])
        #expect(file.tensors.map(\.name) == ["bias", "weight"])
        #expect(file["weight"]?.shape == [2, 2] && file["weight"]?.floats == [1.5, -2, 0.25, 3])
        #expect(file["bias"]?.dtype == .float64 && file["bias"]?.doubles == [0.1])
    }

    @Test func roundTripsAtomically() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("state.safetensors")
        var generator = RandomGenerator(seed: 1)
        let a = Tensor.randomNormal([3, 4], using: &generator), b = Tensor.randomNormal([2], dtype: .float64, using: &generator)
        try SafeTensors(tensors: [("a", a), ("b", b)], metadata: ["epoch": "2"]).write(to: url)
        try SafeTensors(tensors: [("a", a * 2), ("b", b)], metadata: ["epoch": "3"]).write(to: url)   // replaces
        let loaded = try SafeTensors(contentsOf: url)
        #expect(loaded.metadata["epoch"] == "3" && loaded["a"]?.floats == (a * 2).floats && loaded["b"]?.doubles == b.doubles)
        // Only the file itself is left: the temporary was renamed over it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["state.safetensors"])
        // The data region starts 8-byte aligned.
        let data = SafeTensors(tensors: [("x", a)]).encoded()
        #expect(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } % 8 == 0)
    }

    @Test func malformedFilesAreThrownErrors() {
        let good = Data(base64Encoded: Self.pythonWritten)!
        var hugeHeader = good
        hugeHeader[0] = 0xFF; hugeHeader[5] = 0x7F
        var badOffsets = [UInt8](good)
        let needle = Array("[8,24]".utf8)
        let start = (0...(badOffsets.count - needle.count)).first { Array(badOffsets[$0..<($0 + needle.count)]) == needle }!
        badOffsets.replaceSubrange(start..<(start + 6), with: Array("[8,28]".utf8))
        let cases: [(Data, String)] = [
            (Data([1, 2, 3]), "shorter than"),
            (hugeHeader, "header length"),
            (good.prefix(good.count - 4), "do not hold shape"),
            (Data(badOffsets), "do not hold shape"),
            (Data([8, 0, 0, 0, 0, 0, 0, 0] + Array("not json".utf8)), "not a JSON object"),
        ]
        for (data, problem) in cases {
            #expect {
                _ = try SafeTensors(data: data, name: "model.safetensors")
            } throws: { error in
                let text = "\(error)"
                let matches = text.hasPrefix("model.safetensors:") && text.contains(problem)
                if !matches { Issue.record("expected '\(problem)', got \(text)") }
                return matches
            }
        }
        var generator = RandomGenerator(seed: 5)
        for _ in 0..<300 {
            var bytes = [UInt8](good)
            bytes[generator.nextInt(below: bytes.count)] = UInt8(generator.nextInt(below: 256))
            if generator.nextInt(below: 4) == 0 { bytes.removeLast(generator.nextInt(below: bytes.count)) }
            _ = try? SafeTensors(data: Data(bytes))     // a thrown error or valid tensors; never a crash
        }
    }
}
