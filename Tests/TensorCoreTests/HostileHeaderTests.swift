import Foundation
import Testing
import TensorCore

/// Headers that claim impossible sizes — the inputs that once trapped the readers — are thrown
/// errors that name the file and the field.
@Suite struct HostileHeaderTests {
    /// 2^62: times a 4-byte element, it overflows `Int`.
    static let huge = 1 << 62

    @Test func checkedByteCountRefusesWhatDoesNotFit() {
        #expect(Shape.checkedByteCount([2, 3], elementSize: 4) == 24)
        #expect(Shape.checkedByteCount([], elementSize: 8) == 8)
        #expect(Shape.checkedByteCount([Self.huge], elementSize: 4) == nil)
        #expect(Shape.checkedByteCount([Self.huge, 2, 2]) == nil)
        #expect(Shape.checkedByteCount([Int.max, Int.max, 0]) == 0)           // empty, however long its other axes
        #expect(Shape.checkedByteCount([3, -1]) == nil)
    }

    /// A `.npy` file whose header gives the shape `(2^62,)` and no data.
    @Test func npyWithAShapeOfTwoToThe62() throws {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(Self.huge),), }\n"
        let data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8))
        let error = try #require(throws: NumPyFormatError.self) { try Tensor(numpyData: data, name: "huge.npy") }
        #expect(error.description == "huge.npy: not a readable .npy tensor: shape [4611686018427387904] needs more data bytes than an Int can count, file has 0")
    }

    /// The safetensors file of the crash report: shape `[2^62]`, offsets `[0, 0]`.
    @Test func safetensorsWithAShapeOfTwoToThe62() throws {
        let error = try #require(throws: SafeTensorsError.self) {
            try SafeTensors(data: Self.safetensors(header: #"{"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}}"#),
                            name: "huge.safetensors")
        }
        #expect(error.description == "huge.safetensors: not a readable safetensors file: entry 'w': shape [4611686018427387904] of F32 needs more bytes than an Int can count")
        // Offsets past the data are refused by name too.
        let outside = try #require(throws: SafeTensorsError.self) {
            try SafeTensors(data: Self.safetensors(header: #"{"w":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}"#), name: "short.safetensors")
        }
        #expect(outside.description.hasSuffix("entry 'w': bytes 0..<16 do not hold shape [2] of F64 inside the 0 data bytes"))
    }

    /// Only temporaries of a writer that no longer runs are removed; this process's and other files stay.
    @Test func staleTemporaryFilesAreRemoved() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("temporaries-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let dead = Int32.max                                         // above any pid_max: no such process
        let live = ProcessInfo.processInfo.processIdentifier
        let names = [".model.safetensors.\(dead).tmp", ".model.safetensors.\(live).tmp", ".notes.txt.\(dead).tmp",
                     "model.safetensors", ".model.safetensors.tmp"]
        for name in names { try Data("x".utf8).write(to: folder.appendingPathComponent(name)) }
        #expect(SafeTensors.removeStaleTemporaryFiles(in: folder) == [".model.safetensors.\(dead).tmp"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == Array(names.dropFirst()).sorted())
    }

    /// An 8-byte little-endian length, then `header`.
    static func safetensors(header: String) -> Data {
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Data($0) } + Data(header.utf8)
    }
}
