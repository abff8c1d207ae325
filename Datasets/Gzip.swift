import CZlib
import Foundation
import TensorCore

/// Decompression of gzip files with zlib.
///
/// zlib checks the CRC-32 and the length stored at the end of each gzip member, so damaged or
/// truncated input is detected and thrown as a ``DatasetError``, never returned as partial data.
public enum Gzip {
    /// The largest output `decompress` produces unless a caller allows more: 256 MiB, five times
    /// Fashion-MNIST's largest file, so that a damaged stream or a gzip bomb cannot exhaust memory.
    public static let defaultMaximumSize = 1 << 28

    /// Whether `bytes` start with the gzip magic number 1f 8b.
    public static func hasGzipMagic<C: Collection<UInt8>>(_ bytes: C) -> Bool {
        bytes.starts(with: [0x1F, 0x8B])
    }

    /// The decompressed contents of gzip data; `name` is the file name errors mention.
    /// Several concatenated gzip members (as `cat a.gz b.gz` makes) are decompressed in turn.
    public static func decompress(_ data: Data, name: String = "gzip data",
                                  maximumSize: Int = defaultMaximumSize) throws -> [UInt8] {
        require(maximumSize >= 0, "Gzip.decompress: maximumSize must not be negative, got \(maximumSize)")
        func fail(_ problem: String) -> DatasetError { DatasetError(file: name, problem: problem) }
        guard !data.isEmpty else { throw fail("empty file, not gzip data") }
        guard data.count >= 2 || data.first != 0x1F else { throw fail("truncated gzip data (the file is 1 byte long)") }
        guard hasGzipMagic(data) else { throw fail("not gzip data (the magic bytes 1f 8b are missing)") }
        guard data.count <= Int(UInt32.max) else { throw fail("gzip file larger than 4 GiB is not supported") }

        // The last four bytes hold the uncompressed size modulo 2^32: a good first guess.
        let tail = data.suffix(4).map { Int($0) }
        let sizeHint = tail.count == 4 ? tail[0] | tail[1] << 8 | tail[2] << 16 | tail[3] << 24 : 0
        var output: [UInt8] = []
        output.reserveCapacity(min(sizeHint, maximumSize, 64 * data.count + 1024))

        var stream = z_stream()
        guard czlib_inflate_init_gzip(&stream) == Z_OK else { throw fail("zlib could not be initialised") }
        defer { inflateEnd(&stream) }

        let chunkSize = 1 << 18
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress!)
            stream.avail_in = uInt(input.count)
            while true {
                // Never more than one byte past the limit: enough to know it is exceeded.
                let room = min(chunkSize - 1, maximumSize - output.count) + 1
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(room)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, room - Int(stream.avail_out))
                }
                output.append(contentsOf: chunk[0..<produced])
                guard output.count <= maximumSize else {
                    throw fail("decompresses to more than \(maximumSize) bytes, the limit for this file; refusing to continue")
                }
                switch status {
                case Z_STREAM_END:
                    let remaining = Int(stream.avail_in)
                    if remaining == 0 { return }
                    // Another gzip member may follow; anything else is garbage.
                    let offset = input.count - remaining
                    guard hasGzipMagic(input[offset...]) else {
                        throw fail("\(remaining) unexpected bytes after the end of the gzip data")
                    }
                    guard inflateReset(&stream) == Z_OK else { throw fail("zlib could not restart for the next gzip member") }
                case Z_OK:
                    // Input used up, room left in the output, and still no end: the file stops early.
                    if stream.avail_in == 0 && produced < room {
                        throw fail("truncated gzip data (the compressed stream ends before its end marker)")
                    }
                case Z_BUF_ERROR:
                    throw fail("truncated gzip data (the compressed stream ends before its end marker)")
                case Z_MEM_ERROR:
                    throw fail("out of memory while decompressing")
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    throw fail("corrupt gzip data (\(reason))")
                }
            }
        }
        return output
    }

    /// The decompressed contents of a gzip file.
    public static func decompressFile(at url: URL, maximumSize: Int = defaultMaximumSize) throws -> [UInt8] {
        try decompress(try readData(url), name: url.path, maximumSize: maximumSize)
    }

    /// `bytes` compressed in gzip format (to write small dataset files, or test the reader).
    public static func compress(_ bytes: [UInt8], level: Int = 6) -> Data {
        require((0...9).contains(level), "Gzip.compress: level must be 0…9, got \(level)")
        var stream = z_stream()
        require(czlib_deflate_init_gzip(&stream, Int32(level)) == Z_OK, "Gzip.compress: zlib could not be initialised")
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 32)
        let written = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out -> Int in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                let status = deflate(&stream, Z_FINISH)    // the buffer is deflateBound-sized: one call
                require(status == Z_STREAM_END, "Gzip.compress: zlib returned \(status)")
                return out.count - Int(stream.avail_out)
            }
        }
        return Data(output[0..<written])
    }

    /// The bytes of a file, with a ``DatasetError`` that says whether it is missing or unreadable.
    static func readData(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            if !FileManager.default.fileExists(atPath: url.path) {
                throw DatasetError(file: url.path, problem: "no such file", kind: .missing)
            }
            throw DatasetError(file: url.path, problem: "cannot be read (\(error.localizedDescription))", kind: .unreadable)
        }
    }
}
