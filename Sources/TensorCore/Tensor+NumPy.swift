import Foundation

/// What was wrong with a `.npy` file.
public struct NumPyFormatError: Error, CustomStringConvertible {
    public let file: String
    public let problem: String
    public var description: String { "\(file): not a readable .npy tensor: \(problem)" }
}

/// Tensors in NumPy's `.npy` format (float32 `<f4` and float64 `<f8`, C order), so any value
/// can be compared with NumPy or PyTorch: `np.load("x.npy")`, `torch.from_numpy(...)`.
extension Tensor {
    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// The file's bytes: magic, version 1.0, a header dictionary padded to 64 bytes, the data.
    public func numpyData() -> Data {
        let descr = dtype == .float32 ? "<f4" : "<f8"
        let shapeText = shape.isEmpty ? "()" : shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = Tensor.magic.count + 2 + 2 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data(Tensor.magic + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        data.append(Data(bytes: storage.raw, count: count * dtype.byteCount))
        return data
    }

    /// Writes the tensor as a `.npy` file.
    public func saveNumPy(to url: URL) throws {
        try numpyData().write(to: url, options: .atomic)
    }

    /// Reads a `.npy` file written by NumPy (or `saveNumPy`).
    public static func loadNumPy(from url: URL) throws -> Tensor {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw NumPyFormatError(file: url.lastPathComponent, problem: "cannot read it (\(error.localizedDescription))")
        }
        return try Tensor(numpyData: data, name: url.lastPathComponent)
    }

    /// Parses `.npy` bytes; `name` labels errors.
    public convenience init(numpyData data: Data, name: String = ".npy data") throws {
        func fail(_ problem: String) -> NumPyFormatError { NumPyFormatError(file: name, problem: problem) }
        let bytes = [UInt8](data)
        guard bytes.count >= 10, Array(bytes[0..<6]) == Tensor.magic else { throw fail("missing the \\x93NUMPY magic") }
        let major = bytes[6]
        let headerStart: Int, headerLength: Int
        switch major {
        case 1:
            headerStart = 10
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header length") }
            headerStart = 12
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        default:
            throw fail("unsupported format version \(major)")
        }
        guard headerStart + headerLength <= bytes.count,
              let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: .utf8) else {
            throw fail("header of \(headerLength) bytes is truncated or not text")
        }
        func value(_ key: String) -> Substring? {
            guard let keyRange = header.range(of: "'\(key)':") else { return nil }
            return header[keyRange.upperBound...].drop(while: { $0 == " " })
        }
        guard let descr = value("descr") else { throw fail("header has no 'descr'") }
        let dtype: DType
        if descr.hasPrefix("'<f4'") || descr.hasPrefix("'|f4'") { dtype = .float32 }
        else if descr.hasPrefix("'<f8'") || descr.hasPrefix("'|f8'") { dtype = .float64 }
        else { throw fail("element type \(descr.prefix(while: { $0 != "," })) is not little-endian float32 or float64") }
        guard let order = value("fortran_order") else { throw fail("header has no 'fortran_order'") }
        guard order.hasPrefix("False") else { throw fail("Fortran-ordered arrays are not supported; save with C order") }
        guard let shapeValue = value("shape"), shapeValue.first == "(", let close = shapeValue.firstIndex(of: ")") else {
            throw fail("header has no shape tuple")
        }
        let fields = shapeValue[shapeValue.index(after: shapeValue.startIndex)..<close]
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for field in fields {
            guard let size = Int(field), size >= 0 else { throw fail("shape entry '\(field)' is not a size") }
            shape.append(size)
        }
        let dataStart = headerStart + headerLength
        let available = bytes.count - dataStart
        guard let byteCount = Shape.checkedByteCount(shape, elementSize: dtype.byteCount) else {
            throw fail("shape \(Shape.text(shape)) needs more data bytes than an Int can count, file has \(available)")
        }
        guard byteCount == available else {
            throw fail("shape \(Shape.text(shape)) needs \(byteCount) data bytes, file has \(available)")
        }
        self.init(uninitialized: shape, dtype: dtype)
        bytes.withUnsafeBytes { raw in
            storage.raw.copyMemory(from: raw.baseAddress! + dataStart, byteCount: byteCount)
        }
    }
}
