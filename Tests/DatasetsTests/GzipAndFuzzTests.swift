import Datasets
import Foundation
import TensorCore
import Testing

@Suite struct GzipTests {
    @Test func compressAndDecompressRoundTrip() throws {
        var generator = RandomGenerator(seed: 9)
        for count in [0, 1, 1000, 300_000] {
            // Half random, half repetitive: both kinds of deflate blocks.
            let bytes = (0..<count).map { i in i % 2 == 0 ? UInt8(generator.nextInt(below: 256)) : UInt8(i % 7) }
            let packed = Gzip.compress(bytes)
            #expect(Gzip.hasGzipMagic(packed))
            #expect(try Gzip.decompress(packed) == bytes)
        }
    }

    @Test func concatenatedMembersAreJoined() throws {
        let joined = Gzip.compress(Array("hello, ".utf8)) + Gzip.compress(Array("world".utf8))
        #expect(String(decoding: try Gzip.decompress(joined), as: UTF8.self) == "hello, world")
    }

    @Test func badInputIsNamedAndExplained() throws {
        let good = Gzip.compress(Array(repeating: 42, count: 5000))
        func problem(_ data: Data) throws -> String {
            try #require(throws: DatasetError.self) { try Gzip.decompress(data, name: "x.gz") }.description
        }
        #expect(try problem(Data()) == "x.gz: empty file, not gzip data")
        #expect(try problem(Data("plain text".utf8)).hasPrefix("x.gz: not gzip data"))
        #expect(try problem(good.prefix(good.count - 4)).hasPrefix("x.gz: truncated gzip data"))
        #expect(try problem(good + Data([0, 0, 0])) == "x.gz: 3 unexpected bytes after the end of the gzip data")
        var wrongCRC = good
        wrongCRC[wrongCRC.count - 6] ^= 1                           // inside the CRC-32
        #expect(try problem(wrongCRC).hasPrefix("x.gz: corrupt gzip data"))
        let bomb = Gzip.compress([UInt8](repeating: 0, count: 100_000))
        #expect(try Gzip.decompress(bomb).count == 100_000)        // fine at the default limit,
        // refused when it would exceed the caller's.
        let limited = try #require(throws: DatasetError.self) { try Gzip.decompress(bomb, name: "b.gz", maximumSize: 1000) }
        #expect(limited.description.contains("more than 1000 bytes"))
    }

    @Test func missingFileIsKindMissing() throws {
        let url = URL(fileURLWithPath: "/nonexistent/dir/file.gz")
        let error = try #require(throws: DatasetError.self) { try Gzip.decompressFile(at: url) }
        #expect(error.kind == .missing && error.file == url.path)
    }
}

/// Hundreds of randomly damaged copies of a real (small) IDX.gz file: every one is either a
/// thrown error or exactly the original data — never a crash, never quietly wrong data.
@Suite struct FuzzTests {
    /// `bytes` with seeded random damage of one of four kinds.
    static func damage(_ bytes: [UInt8], trial: Int, using generator: inout RandomGenerator) -> [UInt8] {
        var damaged = bytes
        switch trial % 4 {
        case 0:
            for _ in 0..<(1 + generator.nextInt(below: 3)) {
                damaged[generator.nextInt(below: damaged.count)] ^= UInt8(1 << generator.nextInt(below: 8))
            }
        case 1:
            damaged = Array(damaged.prefix(generator.nextInt(below: damaged.count)))
        case 2:
            let start = generator.nextInt(below: damaged.count)
            for i in start..<min(damaged.count, start + 1 + generator.nextInt(below: 32)) {
                damaged[i] = UInt8(generator.nextInt(below: 256))
            }
        default:
            let at = generator.nextInt(below: damaged.count)
            if generator.nextUniform() < 0.5 { damaged.insert(UInt8(generator.nextInt(below: 256)), at: at) }
            else { damaged.remove(at: at) }
        }
        return damaged
    }

    @Test func damagedIDXGzipNeverCrashesNorLies() throws {
        let original = [UInt8](Fixtures.smallImagesGzip)
        let expected = Fixtures.smallArrays.images
        var generator = RandomGenerator(seed: 77)
        var errors = 0
        for trial in 0..<400 {
            let damaged = Self.damage(original, trial: trial, using: &generator)
            do {
                let bytes = try Gzip.decompress(Data(damaged), name: "fuzz.gz")
                let array = try IDX.parse(bytes, name: "fuzz.gz", expectedMagic: IDX.imageMagic)
                #expect(array == expected, "trial \(trial) decoded to different data")
            } catch let error as DatasetError {
                #expect(error.file == "fuzz.gz")
                errors += 1
            }
        }
        #expect(errors > 350, "only \(errors) of 400 damaged files were rejected")
    }

    @Test func damagedUncompressedIDXIsRejectedOrConsistent() throws {
        let original = IDX.encode(IDXArray(dimensions: [10, 28, 28], bytes: Array(Fixtures.smallArrays.images.bytes.prefix(7840))))
        var generator = RandomGenerator(seed: 78)
        for trial in 0..<300 {
            let damaged = Self.damage(original, trial: trial, using: &generator)
            if let array = try? IDX.parse(damaged, name: "fuzz.idx") {
                // Without a checksum a flipped pixel cannot be noticed, but the shape must be right.
                #expect(array.dimensions.reduce(1, *) == array.bytes.count)
            }
        }
    }

    @Test func damagedFilesThroughTheLoader() throws {
        let directory = try Fixtures.smallSplit()
        defer { try? FileManager.default.removeItem(at: directory) }
        let imagesURL = directory.appendingPathComponent(FashionMNIST.Split.train.imagesFile)
        let original = [UInt8](Fixtures.smallImagesGzip)
        var generator = RandomGenerator(seed: 79)
        for trial in 0..<40 {
            try Data(Self.damage(original, trial: trial, using: &generator)).write(to: imagesURL)
            do {
                let dataset = try FashionMNIST.load(.train, from: directory)
                #expect(dataset.count == 100)
            } catch let error as DatasetError {
                #expect(error.file == imagesURL.path)
            }
        }
    }
}
