import Foundation
import ImageIO
import TensorCore
import Testing

@Suite struct PNGTests {
    /// A small gray gradient with every kind of value, including 0 and 255.
    static let gray = Bitmap(width: 7, height: 5, channels: 1,
                             pixels: (0..<35).map { UInt8(($0 * 37 + ($0 == 34 ? 255 : 0)) % 256) })
    static let color = Bitmap(width: 6, height: 4, channels: 3, pixels: (0..<72).map { UInt8(($0 * 53 + 11) % 256) })

    @Test func grayRoundTripKeepsEveryByte() throws {
        let data = try PNG.encode(Self.gray)
        let back = try PNG.decode(data)
        #expect(back == Self.gray)
    }

    @Test func colorRoundTripKeepsEveryByte() throws {
        let back = try PNG.decode(try PNG.encode(Self.color))
        #expect(back == Self.color)
    }

    @Test func fileRoundTripAndTensors() throws {
        let directory = try PNGFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("color.png")
        try PNG.write(Self.color, to: url)
        #expect(try PNG.read(from: url) == Self.color)

        let tensor = try PNG.readTensor(from: url)
        #expect(tensor.shape == [3, 4, 6])
        // Channel-first: element [c, y, x] is byte (y * 6 + x) * 3 + c.
        let values = tensor.floats
        #expect(values[0] == Float(Self.color.pixels[0]) / 255)
        #expect(values[24 + 7] == Float(Self.color.pixels[7 * 3 + 1]) / 255)
        #expect(values.allSatisfy { (0...1).contains($0) })

        // A [-1, 1] tensor written and read back lands on the nearest byte.
        let signed = Tensor([-1, -0.5, 0, 0.5, 1, 2] as [Float], shape: [1, 2, 3])
        let grayURL = directory.appendingPathComponent("gray.png")
        try PNG.write(signed, range: .minusOneToOne, to: grayURL)
        let read = try PNG.read(from: grayURL)
        #expect(read.channels == 1 && read.width == 3 && read.height == 2)
        #expect(read.pixels == [0, 64, 128, 191, 255, 255])
        #expect(try PNG.readTensor(from: grayURL, range: .minusOneToOne).shape == [1, 2, 3])
    }

    // MARK: - Every PNG flavour becomes 8-bit gray or RGB

    @Test func palettedImageExpandsToRGB() throws {
        let palette: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]
        // 8-bit indices, then 2-bit packed indices (4 pixels per byte).
        let eight = PNGFixtures.png(width: 4, height: 1, bitDepth: 8, colorType: 3, rows: [[0, 1, 2, 3]], palette: palette)
        let expected: [UInt8] = palette
        #expect(try PNG.decode(eight) == Bitmap(width: 4, height: 1, channels: 3, pixels: expected))
        let packed = PNGFixtures.png(width: 4, height: 1, bitDepth: 2, colorType: 3, rows: [[0b00_01_10_11]], palette: palette)
        #expect(try PNG.decode(packed).pixels == expected)
        // A palette with transparency: alpha is dropped, colours kept.
        let transparent = PNGFixtures.png(width: 4, height: 1, bitDepth: 8, colorType: 3, rows: [[0, 1, 2, 3]],
                                          palette: palette, transparency: [0, 128])
        #expect(try PNG.decode(transparent).pixels == expected)
    }

    @Test func sixteenBitGrayIsScaledTo8Bits() throws {
        let samples: [UInt16] = [0, 0x8080, 0xFFFF, 0x1234]
        let row = samples.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        let data = PNGFixtures.png(width: 4, height: 1, bitDepth: 16, colorType: 0, rows: [row])
        let bitmap = try PNG.decode(data)
        #expect(bitmap.channels == 1)
        for (byte, sample) in zip(bitmap.pixels, samples) {
            #expect(abs(Int(byte) - Int((Double(sample) / 65535 * 255).rounded())) <= 1, "16-bit \(sample) → \(byte)")
        }
    }

    @Test func sixteenBitRGBAndLowBitGray() throws {
        let rgb16: [UInt8] = [0xFF, 0xFF, 0x00, 0x00, 0x80, 0x00]
        let rgb = try PNG.decode(PNGFixtures.png(width: 1, height: 1, bitDepth: 16, colorType: 2, rows: [rgb16]))
        #expect(rgb.channels == 3 && rgb.pixels[0] == 255 && rgb.pixels[1] == 0 && abs(Int(rgb.pixels[2]) - 128) <= 1)
        // 1-bit gray: 8 pixels in one byte, 1 is white.
        let bits = try PNG.decode(PNGFixtures.png(width: 8, height: 1, bitDepth: 1, colorType: 0, rows: [[0b1010_0001]]))
        #expect(bits.pixels == [255, 0, 255, 0, 0, 0, 0, 255])
    }

    @Test func alphaChannelsAreDropped() throws {
        // Gray + alpha (colour type 4) and RGBA (colour type 6).
        let grayAlpha = PNGFixtures.png(width: 2, height: 1, bitDepth: 8, colorType: 4, rows: [[200, 255, 50, 0]])
        let ga = try PNG.decode(grayAlpha)
        #expect(ga == Bitmap(width: 2, height: 1, channels: 1, pixels: [200, 50]))
        let rgba = PNGFixtures.png(width: 2, height: 1, bitDepth: 8, colorType: 6, rows: [[1, 2, 3, 255, 40, 50, 60, 7]])
        #expect(try PNG.decode(rgba) == Bitmap(width: 2, height: 1, channels: 3, pixels: [1, 2, 3, 40, 50, 60]))
        #expect(try PNG.decode(rgba).tensor().shape == [3, 1, 2])
    }

    // MARK: - Bad input is a thrown error that names the file

    @Test func notAPNGNamesTheFile() throws {
        let directory = try PNGFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("notes.png")
        try Data("this is a text file, not an image\n".utf8).write(to: url)
        let error = try #require(throws: ImageIOError.self) { try PNG.read(from: url) }
        #expect(error.file == url.path)
        #expect(error.description.contains("notes.png") && error.description.contains("not a PNG"))

        let empty = directory.appendingPathComponent("empty.png")
        try Data().write(to: empty)
        let emptyError = try #require(throws: ImageIOError.self) { try PNG.read(from: empty) }
        #expect(emptyError.description.contains("empty.png") && emptyError.description.contains("empty"))

        let missing = directory.appendingPathComponent("missing.png")
        let missingError = try #require(throws: ImageIOError.self) { try PNG.read(from: missing) }
        #expect(missingError.description.contains("missing.png") && missingError.description.contains("no such file"))
    }

    @Test func truncatedPNGNamesTheFile() throws {
        let directory = try PNGFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let big = Bitmap(width: 40, height: 30, channels: 3, pixels: (0..<3600).map { UInt8(($0 * 7) % 251) })
        let full = try PNG.encode(big)
        for keep in [9, 20, 33, full.count / 2, full.count - 13, full.count - 1] {
            let url = directory.appendingPathComponent("cut-\(keep).png")
            try full.prefix(keep).write(to: url)
            let error = try #require(throws: ImageIOError.self) { try PNG.read(from: url) }
            #expect(error.file == url.path, "cut at \(keep): \(error)")
            #expect(error.description.hasPrefix(url.path))
        }
    }

    @Test func oversizedHeaderIsRefusedBeforeAllocating() throws {
        // A valid PNG header claiming 1 000 000 × 1 000 000 pixels, with no data behind it.
        var data = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        data += PNGFixtures.chunk("IHDR", PNGFixtures.bigEndian(1_000_000) + PNGFixtures.bigEndian(1_000_000) + [8, 2, 0, 0, 0])
        data += PNGFixtures.chunk("IEND", [])
        let error = try #require(throws: ImageIOError.self) { try PNG.decode(data, name: "huge.png") }
        #expect(error.description.contains("huge.png"))
    }

    /// 8192×8192 pixels (64 Mi, within the reader's limit) behind 100 bytes of pixel data: deflate
    /// cannot expand that far, so nothing the size of the image is allocated.
    @Test func aHeaderLargerThanItsPixelDataIsRefused() throws {
        var data = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        data += PNGFixtures.chunk("IHDR", PNGFixtures.bigEndian(8192) + PNGFixtures.bigEndian(8192) + [1, 0, 0, 0, 0])
        data += PNGFixtures.chunk("IDAT", [UInt8](repeating: 0, count: 100))
        data += PNGFixtures.chunk("IEND", [])
        let error = try #require(throws: ImageIOError.self) { try PNG.decode(data, name: "bomb.png") }
        #expect(error.description == "bomb.png: 100 bytes of compressed pixel data cannot hold 8192×8192 pixels")
        // The least a real image needs passes this check (and then decodes, or fails for its data).
        let tiny = PNGFixtures.png(width: 3, height: 2, bitDepth: 1, colorType: 0, rows: [[0b1010_0000], [0b0100_0000]])
        #expect(try PNG.decode(tiny).pixels == [255, 0, 255, 0, 255, 0])
    }

    /// Hundreds of randomly damaged copies of a real PNG: each is either a thrown `ImageIOError`
    /// or the original picture (the damage hit something harmless, like the CRC of an ancillary
    /// chunk) — never a crash, never different pixels. (20 000 trials were run once; the same held.)
    @Test func fuzzedPNGsNeverCrash() throws {
        let original = Bitmap(width: 24, height: 16, channels: 3, pixels: (0..<1152).map { UInt8(($0 * 31 + $0 / 48) % 256) })
        let bytes = [UInt8](try PNG.encode(original))
        var generator = RandomGenerator(seed: 2024)
        var (errors, decoded) = (0, 0)
        for trial in 0..<400 {
            var damaged = bytes
            switch trial % 4 {
            case 0:                                                    // flip a few bits
                for _ in 0..<(1 + generator.nextInt(below: 4)) {
                    damaged[generator.nextInt(below: damaged.count)] ^= UInt8(1 << generator.nextInt(below: 8))
                }
            case 1:                                                    // cut short
                damaged = Array(damaged.prefix(generator.nextInt(below: damaged.count)))
            case 2:                                                    // overwrite a run with random bytes
                let start = generator.nextInt(below: damaged.count)
                for i in start..<min(damaged.count, start + 1 + generator.nextInt(below: 16)) {
                    damaged[i] = UInt8(generator.nextInt(below: 256))
                }
            default:                                                   // insert or delete a byte
                let at = generator.nextInt(below: damaged.count)
                if generator.nextUniform() < 0.5 { damaged.insert(UInt8(generator.nextInt(below: 256)), at: at) }
                else { damaged.remove(at: at) }
            }
            do {
                let bitmap = try PNG.decode(Data(damaged), name: "fuzz-\(trial).png")
                #expect(bitmap == original, "trial \(trial) decoded to different pixels")
                decoded += 1
            } catch let error as ImageIOError {
                #expect(error.file == "fuzz-\(trial).png")
                errors += 1
            }
        }
        #expect(errors + decoded == 400)
        #expect(errors > 300, "most damage must be detected (CRCs), got \(errors) errors")
    }
}
