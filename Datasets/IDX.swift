import Foundation
import TensorCore

/// An array read from an IDX file: its dimensions and its unsigned-byte elements, row-major.
public struct IDXArray: Equatable, Sendable {
    /// The size of each dimension, outermost first (`[60000, 28, 28]` for the training images).
    public let dimensions: [Int]
    /// The elements, row-major.
    public let bytes: [UInt8]

    /// An array with the given dimensions and elements.
    public init(dimensions: [Int], bytes: [UInt8]) {
        require(Shape.checkedByteCount(dimensions) == bytes.count,
                "IDXArray: dimensions \(dimensions) do not describe \(bytes.count) bytes")
        self.dimensions = dimensions
        self.bytes = bytes
    }
}

/// The IDX format of MNIST and Fashion-MNIST.
///
/// A file is a 4-byte magic number — two zero bytes, a type code (0x08 for unsigned bytes) and
/// the number of dimensions — then each dimension as a big-endian 32-bit size, then the
/// elements. Images are `0x00000803` (count, rows, columns), labels `0x00000801` (count).
public enum IDX {
    /// The magic number of an image file (unsigned bytes, three dimensions).
    public static let imageMagic: UInt32 = 0x0000_0803
    /// The magic number of a label file (unsigned bytes, one dimension).
    public static let labelMagic: UInt32 = 0x0000_0801

    /// Parses IDX bytes. `expectedMagic` (if given) must match; `name` is the file errors mention.
    public static func parse(_ bytes: [UInt8], name: String = "IDX data", expectedMagic: UInt32? = nil) throws -> IDXArray {
        func fail(_ problem: String) -> DatasetError { DatasetError(file: name, problem: problem) }
        guard bytes.count >= 4 else { throw fail("only \(bytes.count) bytes, too short for an IDX header") }
        let magic = readUInt32(bytes, at: 0)
        let magicText = String(format: "0x%08X", magic)
        if let expectedMagic, magic != expectedMagic {
            let what = expectedMagic == imageMagic ? "an image file" : expectedMagic == labelMagic ? "a label file" : "this file"
            throw fail("wrong magic number \(magicText); \(what) must start with \(String(format: "0x%08X", expectedMagic))")
        }
        guard bytes[0] == 0, bytes[1] == 0 else { throw fail("wrong magic number \(magicText); an IDX file starts with two zero bytes") }
        guard bytes[2] == 0x08 else {
            throw fail(String(format: "element type 0x%02X is not supported (only unsigned bytes, 0x08)", bytes[2]))
        }
        let rank = Int(bytes[3])
        guard rank >= 1 else { throw fail("wrong magic number \(magicText): an array needs at least one dimension") }
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw fail("truncated header: \(rank) dimensions need \(headerSize) header bytes, the file has \(bytes.count)")
        }
        let dimensions = (0..<rank).map { Int(readUInt32(bytes, at: 4 + 4 * $0)) }
        guard let expected = Shape.checkedByteCount(dimensions) else {
            throw fail("dimensions \(dimensions) describe an impossibly large array")
        }
        let available = bytes.count - headerSize
        guard available == expected else {
            let shape = dimensions.map(String.init).joined(separator: "×")
            let problem = available < expected
                ? "truncated: the header promises \(shape) = \(expected) bytes of data, the file holds \(available)"
                : "\(available - expected) bytes more than the \(shape) = \(expected) bytes the header describes"
            throw fail(problem)
        }
        return IDXArray(dimensions: dimensions, bytes: Array(bytes[headerSize...]))
    }

    /// Reads an IDX file, gzip-compressed (a `.gz` name or the gzip magic bytes) or not.
    /// `maximumSize` bounds the IDX bytes, after decompression: a caller that knows its data
    /// (as ``FashionMNIST`` does) passes the size it expects.
    public static func read(_ url: URL, expectedMagic: UInt32? = nil, maximumSize: Int = Gzip.defaultMaximumSize) throws -> IDXArray {
        let data = try Gzip.readData(url)
        let compressed = url.pathExtension == "gz" || Gzip.hasGzipMagic(data)
        guard compressed || data.count <= maximumSize else {
            throw DatasetError(file: url.path, problem: "\(data.count) bytes is more than the \(maximumSize) this file may hold")
        }
        let bytes = compressed ? try Gzip.decompress(data, name: url.path, maximumSize: maximumSize) : [UInt8](data)
        return try parse(bytes, name: url.path, expectedMagic: expectedMagic)
    }

    /// The IDX bytes of an array (uncompressed): the inverse of `parse`.
    public static func encode(_ array: IDXArray) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 0x08, UInt8(array.dimensions.count)]
        for size in array.dimensions {
            let value = UInt32(size)
            bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
        }
        return bytes + array.bytes
    }

    private static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}
