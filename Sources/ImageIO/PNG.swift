import CPNG
import Foundation
import TensorCore

/// Reading and writing PNG files through libpng.
///
/// Only libpng's "simplified" API is used (`png_image_…`). The classic API reports errors by
/// `longjmp`, which would jump over Swift frames and corrupt the program; the simplified API
/// catches those jumps inside libpng and hands back a return code and a message, which become
/// a thrown ``ImageIOError`` here. A damaged file therefore costs an error, never a crash.
///
/// Reading accepts every PNG flavour — gray, RGB, palette, 1–16 bits per sample, with or
/// without alpha — and produces 8-bit gray or RGB: palettes are expanded, 16-bit samples
/// reduced to 8, and any alpha channel is dropped (the colour values are kept as stored).
public enum PNG {
    /// The largest image, in pixels, that `decode` accepts (a damaged header cannot make it
    /// allocate gigabytes).
    public static let maximumPixelCount = 1 << 26

    // libpng's PNG_FORMAT_FLAG_* bits, spelled out so as not to depend on macro import.
    private static let alphaFlag: UInt32 = 0x01
    private static let colorFlag: UInt32 = 0x02
    private static let sixteenBitIsSRGB: UInt32 = 0x04     // PNG_IMAGE_FLAG_16BIT_sRGB

    // MARK: - Writing

    /// The PNG file bytes of an 8-bit gray or RGB bitmap.
    public static func encode(_ bitmap: Bitmap, name: String = "PNG data") throws -> Data {
        var image = png_image()
        image.version = 1                                   // PNG_IMAGE_VERSION
        image.width = UInt32(bitmap.width)
        image.height = UInt32(bitmap.height)
        image.format = bitmap.channels == 3 ? colorFlag : 0
        defer { png_image_free(&image) }
        return try bitmap.pixels.withUnsafeBytes { pixels -> Data in
            // First pass measures, second pass writes.
            var size: png_alloc_size_t = 0
            guard png_image_write_to_memory(&image, nil, &size, 0, pixels.baseAddress, 0, nil) != 0, size > 0 else {
                throw ImageIOError(file: name, problem: "PNG encoding failed (\(message(of: image)))")
            }
            var data = Data(count: Int(size))
            let ok = data.withUnsafeMutableBytes { buffer in
                png_image_write_to_memory(&image, buffer.baseAddress, &size, 0, pixels.baseAddress, 0, nil)
            }
            guard ok != 0 else {
                throw ImageIOError(file: name, problem: "PNG encoding failed (\(message(of: image)))")
            }
            return data.prefix(Int(size))
        }
    }

    /// Writes `bitmap` to `url` as a PNG file (atomically: a temporary file, then a rename).
    public static func write(_ bitmap: Bitmap, to url: URL) throws {
        let data = try encode(bitmap, name: url.path)
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw ImageIOError(file: url.path, problem: "cannot be written (\(error.localizedDescription))")
        }
    }

    /// Writes a `[C, H, W]` (C = 1 or 3) or `[H, W]` tensor with values in `range` as a PNG file.
    public static func write(_ tensor: Tensor, range: PixelRange, to url: URL) throws {
        try write(Bitmap(tensor, range: range), to: url)
    }

    // MARK: - Reading

    /// Decodes PNG file bytes into an 8-bit bitmap: 1 channel for gray files, 3 for colour ones.
    /// `name` is the file name errors mention.
    public static func decode(_ data: Data, name: String = "PNG data") throws -> Bitmap {
        func fail(_ problem: String) -> ImageIOError { ImageIOError(file: name, problem: problem) }
        guard data.count >= 8 else {
            throw fail(data.isEmpty ? "empty file, not a PNG" : "only \(data.count) bytes, too short to be a PNG")
        }
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard data.prefix(8).elementsEqual(signature) else {
            throw fail("not a PNG file (the 8-byte PNG signature is missing)")
        }
        let chunks = walkChunks(data)
        if let problem = chunks.problem { throw fail(problem) }
        var image = png_image()
        image.version = 1
        defer { png_image_free(&image) }
        return try data.withUnsafeBytes { bytes -> Bitmap in
            guard png_image_begin_read_from_memory(&image, bytes.baseAddress, bytes.count) != 0 else {
                throw fail("unreadable PNG header (\(message(of: image)))")
            }
            let width = Int(image.width), height = Int(image.height)
            guard width > 0, height > 0, let pixelCount = Shape.checkedByteCount([width, height]), pixelCount <= maximumPixelCount else {
                throw fail("image of \(width)×\(height) pixels is larger than this reader accepts (\(maximumPixelCount) pixels)")
            }
            // Deflate expands at most 1032-fold, and a row is a filter byte and at least a bit a pixel:
            // a file too small for the size it claims is refused before its pixels are allocated.
            let leastRowBytes = height * (1 + (width + 7) / 8)
            guard chunks.imageDataLength * 1032 >= leastRowBytes else {
                throw fail("\(chunks.imageDataLength) bytes of compressed pixel data cannot hold \(width)×\(height) pixels")
            }
            let isColor = image.format & colorFlag != 0
            let hasAlpha = image.format & alphaFlag != 0
            image.format = (isColor ? colorFlag : 0) | (hasAlpha ? alphaFlag : 0)   // 8-bit sRGB samples
            image.flags |= sixteenBitIsSRGB        // 16-bit files without gamma: scale, don't re-gamma
            let stored = (isColor ? 3 : 1) + (hasAlpha ? 1 : 0)
            var raw = [UInt8](repeating: 0, count: pixelCount * stored)
            let ok = raw.withUnsafeMutableBytes { buffer in
                png_image_finish_read(&image, nil, buffer.baseAddress, 0, nil)
            }
            guard ok != 0 else { throw fail("damaged PNG data (\(message(of: image)))") }
            let channels = isColor ? 3 : 1
            guard hasAlpha else { return Bitmap(width: width, height: height, channels: channels, pixels: raw) }
            // Drop the alpha sample of every pixel.
            var pixels = [UInt8](repeating: 0, count: pixelCount * channels)
            for i in 0..<pixelCount {
                for c in 0..<channels { pixels[i * channels + c] = raw[i * stored + c] }
            }
            return Bitmap(width: width, height: height, channels: channels, pixels: pixels)
        }
    }

    /// Reads a PNG file into an 8-bit gray or RGB bitmap.
    public static func read(from url: URL) throws -> Bitmap {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let exists = FileManager.default.fileExists(atPath: url.path)
            throw ImageIOError(file: url.path, problem: exists ? "cannot be read (\(error.localizedDescription))" : "no such file")
        }
        return try decode(data, name: url.path)
    }

    /// Reads a PNG file into a float32 `[C, H, W]` tensor with values in `range`
    /// (C = 1 for gray files, 3 for colour ones).
    public static func readTensor(from url: URL, range: PixelRange = .zeroToOne) throws -> Tensor {
        try read(from: url).tensor(range: range)
    }

    /// Walks the chunk structure (length, type, data, CRC) up to the IEND chunk: describes what
    /// is wrong with it, or counts the bytes of compressed pixel data (the IDAT chunks). libpng
    /// stops reading once it has the pixels, so without this a file cut inside its last chunk
    /// would pass unnoticed.
    static func walkChunks(_ data: Data) -> (problem: String?, imageDataLength: Int) {
        let bytes = [UInt8](data)
        var offset = 8
        var imageDataLength = 0
        while offset + 8 <= bytes.count {
            let length = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            guard length <= 0x7FFF_FFFF else { return ("damaged PNG data (chunk \"\(type)\" claims \(length) bytes)", imageDataLength) }
            let end = offset + 12 + length
            guard end <= bytes.count else {
                return ("truncated PNG: the file ends inside its \"\(type)\" chunk (\(end - bytes.count) bytes missing)", imageDataLength)
            }
            if type == "IDAT" { imageDataLength += length }
            if type == "IEND" { return (nil, imageDataLength) }
            offset = end
        }
        return ("truncated PNG: the file ends before its IEND chunk", imageDataLength)
    }

    /// libpng's message for the last failure of `image`.
    private static func message(of image: png_image) -> String {
        var copy = image.message
        let text = withUnsafeBytes(of: &copy) { raw -> String in
            let bytes = raw.prefix(while: { $0 != 0 })
            return String(decoding: bytes, as: UTF8.self)
        }
        return text.isEmpty ? "libpng gave no reason" : text
    }
}
