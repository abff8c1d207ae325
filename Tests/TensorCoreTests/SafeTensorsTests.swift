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

    /// Written by the Python `safetensors` package in PyTorch's layout (metadata `format: pt`, the
    /// widest elements first, an I64 scalar `num_batches_tracked`): running_var F32 [0.5, 2],
    /// weight F32 [1.5, −2], half F16 [1, −0.5, 65504, 6e−8], small I8 [−3, 4], flag BOOL [true, false].
    static let pytorchLaidOut = "qAEAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJmb3JtYXQiOiJwdCJ9LCJtYWluLjEubnVtX2JhdGNoZXNfdHJhY2tlZCI6eyJkdHlwZSI6Ikk2NCIsInNoYXBlIjpbXSwiZGF0YV9vZmZzZXRzIjpbMCw4XX0sIm1haW4uMS5ydW5uaW5nX3ZhciI6eyJkdHlwZSI6IkYzMiIsInNoYXBlIjpbMl0sImRhdGFfb2Zmc2V0cyI6WzgsMTZdfSwibWFpbi4xLndlaWdodCI6eyJkdHlwZSI6IkYzMiIsInNoYXBlIjpbMl0sImRhdGFfb2Zmc2V0cyI6WzE2LDI0XX0sImhhbGYiOnsiZHR5cGUiOiJGMTYiLCJzaGFwZSI6WzRdLCJkYXRhX29mZnNldHMiOlsyNCwzMl19LCJzbWFsbCI6eyJkdHlwZSI6Ikk4Iiwic2hhcGUiOlsyXSwiZGF0YV9vZmZzZXRzIjpbMzIsMzRdfSwiZmxhZyI6eyJkdHlwZSI6IkJPT0wiLCJzaGFwZSI6WzJdLCJkYXRhX29mZnNldHMiOlszNCwzNl19fSAgBwAAAAAAAAAAAAA/AAAAQAAAwD8AAADAADwAuP97AQD9BAEA"

    @Test func convertsWhatPyTorchWritesBesideFloats() throws {
        let file = try SafeTensors(data: Data(base64Encoded: Self.pytorchLaidOut)!)
        #expect(file.metadata == ["format": "pt"])
        #expect(file.tensors.map(\.name) == ["main.1.num_batches_tracked", "main.1.running_var", "main.1.weight", "half", "small", "flag"])
        let tracked = try #require(file["main.1.num_batches_tracked"])
        #expect(tracked.shape == [] && tracked.dtype == .float64 && tracked.doubles == [7])
        #expect(file["main.1.weight"]?.floats == [1.5, -2])
        // 65504 is float16's largest finite value; 6e−8 rounds to its smallest subnormal, 2⁻²⁴.
        #expect(file["half"]?.dtype == .float32 && file["half"]?.floats == [1, -0.5, 65504, 0x1p-24])
        #expect(file["small"]?.doubles == [-3, 4] && file["flag"]?.doubles == [1, 0])
    }

    /// A file of one tensor `x` of `dtype` and `shape` holding `payload`, laid out as the writers do.
    static func file(dtype: String, shape: [Int], payload: [UInt8]) -> Data {
        var header = Array("{\"x\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[0,\(payload.count)]}}".utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        return Data((0..<8).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) } + header + payload)
    }

    @Test func halfPrecisionEdgesConvertExactly() throws {
        // BF16 is float32's top half: 1, −2, the largest finite bfloat16, −∞.
        let bf16: [UInt16] = [0x3F80, 0xC000, 0x7F7F, 0xFF80]
        let brain = try SafeTensors(data: Self.file(dtype: "BF16", shape: [4], payload: bf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }))
        #expect(brain["x"]?.floats == [1, -2, Float(bitPattern: 0x7F7F_0000), -.infinity])
        // F16: −0, the largest subnormal, the smallest normal, 1 + 2⁻¹⁰, +∞, and a NaN.
        let f16: [UInt16] = [0x8000, 0x03FF, 0x0400, 0x3C01, 0x7C00, 0x7E00]
        let half = try SafeTensors(data: Self.file(dtype: "F16", shape: [2, 3], payload: f16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }))
        let values = try #require(half["x"]?.floats)
        #expect(values[0] == 0 && values[0].sign == .minus)
        #expect(Array(values[1...4]) == [1023 * 0x1p-24, 0x1p-14, 1 + 0x1p-10, .infinity] && values[5].isNaN)
    }

    @Test func integersFloat64CannotHoldAreRefused() throws {
        func int64(_ value: Int64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * Int64($0))) } }
        let exact = try SafeTensors(data: Self.file(dtype: "I64", shape: [2], payload: int64(1 << 53) + int64(-(1 << 53))))
        #expect(exact["x"]?.doubles == [0x1p53, -0x1p53])
        let refused: [(dtype: String, payload: [UInt8], problem: String)] = [
            ("I64", int64((1 << 53) + 1), "entry 'x' holds the integer 9007199254740993, which float64 cannot hold exactly"),
            ("I64", int64(.min), "entry 'x' holds the integer -9223372036854775808, which float64"),
            ("BOOL", [2], "entry 'x' holds the byte 2 where a BOOL is 0 or 1"),
            ("F8_E4M3", [0], "entry 'x' has dtype F8_E4M3; this reader takes F64, F32, F16, BF16, I64"),
        ]
        for (dtype, payload, problem) in refused {
            #expect {
                _ = try SafeTensors(data: Self.file(dtype: dtype, shape: [1], payload: payload), name: "x.safetensors")
            } throws: { error in
                (error as? SafeTensorsError)?.description.contains(problem) == true
            }
        }
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
