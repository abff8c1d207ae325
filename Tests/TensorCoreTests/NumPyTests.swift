import Foundation
import Testing
import TestSupport
import TensorCore

/// `.npy` interchange, checked against files NumPy wrote (`np.save`), embedded as base64.
@Suite struct NumPyTests {
    /// np.save of np.array([[1.5, -2, 3.25], [0, 1e-3, 7]], dtype=np.float32)
    static let numpyFloat32 = "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/AAAAwAAAUEAAAAAAbxKDOgAA4EA="
    /// np.save of np.array([0.1, 0.2]) (float64)
    static let numpyFloat64 = "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAqamZmZmZm5P5qZmZmZmck/"
    /// np.save of a Fortran-ordered float32 array, and of an int32 array.
    static let numpyFortran = "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAABAQAAAgD8AAIBAAAAAQAAAoEA="
    static let numpyInt32 = "k05VTVBZAQB2AHsnZGVzY3InOiAnPGk0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAQAAAAIAAAA="

    @Test func readsWhatNumPyWrote() throws {
        let a = try Tensor(numpyData: Data(base64Encoded: Self.numpyFloat32)!)
        #expect(a.shape == [2, 3] && a.dtype == .float32)
        #expect(a.floats == [1.5, -2, 3.25, 0, 1e-3, 7])
        let b = try Tensor(numpyData: Data(base64Encoded: Self.numpyFloat64)!)
        #expect(b.shape == [2] && b.dtype == .float64 && b.doubles == [0.1, 0.2])
    }

    @Test func writesWhatNumPyWrites() {
        // Byte for byte the same header and data as NumPy's own file.
        let a = Tensor([1.5, -2, 3.25, 0, 1e-3, 7] as [Float], shape: [2, 3])
        #expect(a.numpyData() == Data(base64Encoded: Self.numpyFloat32)!)
        #expect(Tensor([0.1, 0.2], shape: [2]).numpyData() == Data(base64Encoded: Self.numpyFloat64)!)
    }

    @Test func roundTripsThroughAFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("roundtrip-\(UUID()).npy")
        defer { try? FileManager.default.removeItem(at: url) }
        for tensor in [randomFloat([3, 1, 4], seed: 1), randomDouble([5], seed: 2), Tensor.zeros([]), Tensor.zeros([0, 3])] {
            try tensor.saveNumPy(to: url)
            let loaded = try Tensor.loadNumPy(from: url)
            #expect(loaded.shape == tensor.shape && loaded.dtype == tensor.dtype && loaded.doubles == tensor.doubles)
        }
    }

    @Test func malformedFilesAreThrownErrors() {
        let good = Data(base64Encoded: Self.numpyFloat32)!
        let cases: [(Data, String)] = [
            (Data("not numpy at all".utf8), "magic"),
            (good.prefix(good.count - 3), "data bytes"),
            (good.prefix(40), "truncated"),
            (Data(base64Encoded: Self.numpyFortran)!, "Fortran"),
            (Data(base64Encoded: Self.numpyInt32)!, "not little-endian float32 or float64"),
            (good + Data([0, 0, 0, 0]), "data bytes"),
        ]
        for (data, problem) in cases {
            do {
                _ = try Tensor(numpyData: data, name: "bad.npy")
                Issue.record("accepted a malformed file (\(problem))")
            } catch let error as NumPyFormatError {
                #expect(error.description.hasPrefix("bad.npy:") && error.description.contains(problem), "\(error)")
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }

    @Test func randomCorruptionNeverCrashes() {
        var generator = RandomGenerator(seed: 99)
        let good = [UInt8](Data(base64Encoded: Self.numpyFloat32)!)
        for _ in 0..<300 {
            var bytes = good
            for _ in 0..<(1 + generator.nextInt(below: 4)) {
                bytes[generator.nextInt(below: bytes.count)] = UInt8(generator.nextInt(below: 256))
            }
            if generator.nextInt(below: 3) == 0 { bytes.removeLast(generator.nextInt(below: bytes.count)) }
            if let tensor = try? Tensor(numpyData: Data(bytes)) {
                #expect(tensor.count * tensor.dtype.byteCount <= bytes.count)
            }
        }
    }
}
