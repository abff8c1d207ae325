import Datasets
import Foundation
import TensorCore
import Testing

/// Dataset files whose headers claim far more than they hold: refused by name, with memory to
/// spare, before anything the size of the claim is allocated.
@Suite struct HostileFileTests {
    /// The IDX header of 2 551 020 images of 28×28 pixels (2 GB of pixels).
    static let millionsOfImages: [UInt8] = [0, 0, 8, 3, 0x00, 0x26, 0xEC, 0xEC, 0, 0, 0, 28, 0, 0, 0, 28]

    /// gzip data that inflates to `mebibytes` MiB of zero bytes after `prefix`, in about 1 KiB per
    /// MiB: concatenated members, which `Gzip.decompress` joins.
    static func bomb(after prefix: [UInt8] = [], mebibytes: Int) -> Data {
        let member = Gzip.compress([UInt8](repeating: 0, count: 1 << 20), level: 9)
        return (0..<mebibytes).reduce(Gzip.compress(prefix)) { data, _ in data + member }
    }

    @Test func anIDXClaimingMillionsOfImagesInASmallFile() throws {
        let bytes = Self.millionsOfImages + [UInt8](repeating: 7, count: 1000)
        let error = try #require(throws: DatasetError.self) { try IDX.parse(bytes, name: "millions.idx") }
        #expect(error.description == "millions.idx: truncated: the header promises 2551020×28×28 = 1999999680 bytes of data, the file holds 1000")
    }

    /// The crash report's file: a gzip whose IDX header claims 2 551 020 images and whose data
    /// really inflates that far. Fashion-MNIST's size stops it at 47 MB.
    @Test func aFashionMNISTFileThatInflatesPastItsSplit() throws {
        let directory = try Fixtures.smallSplit()
        defer { try? FileManager.default.removeItem(at: directory) }
        let imagesURL = directory.appendingPathComponent(FashionMNIST.Split.train.imagesFile)
        try Self.bomb(after: Self.millionsOfImages, mebibytes: 64).write(to: imagesURL)
        let error = try #require(throws: DatasetError.self) { try FashionMNIST.load(.train, from: directory) }
        #expect(error.description == "\(imagesURL.path): decompresses to more than 47040016 bytes, the limit for this file; refusing to continue")
        #expect(47_040_016 == 16 + FashionMNIST.Split.train.imageCount * 28 * 28)
    }

    @Test func aGzipBombStopsAtTheLimitACallerCanRaise() throws {
        let bomb = Self.bomb(mebibytes: 8)
        #expect(bomb.count < 16_384)
        let error = try #require(throws: DatasetError.self) { try Gzip.decompress(bomb, name: "bomb.gz", maximumSize: 4 << 20) }
        #expect(error.description == "bomb.gz: decompresses to more than 4194304 bytes, the limit for this file; refusing to continue")
        #expect(try Gzip.decompress(bomb, maximumSize: 8 << 20).count == 8 << 20)
        #expect(Gzip.defaultMaximumSize == 1 << 28)
    }

    @Test func imagesOfAnotherSizeAreNotFashionMNIST() throws {
        let images = IDXArray(dimensions: [100, 27, 28], bytes: Array(Fixtures.smallArrays.images.bytes.prefix(100 * 27 * 28)))
        let error = try Fixtures.loadError(images: images)
        #expect(error.description.hasSuffix("train-images-idx3-ubyte.gz: images are 27×28 pixels; Fashion-MNIST's are 28×28"))
    }

    @Test func anUncompressedFileLargerThanItsLimit() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("labels.idx")
        try Data(IDX.encode(Fixtures.smallArrays.labels)).write(to: url)
        #expect(try IDX.read(url, maximumSize: 108).dimensions == [100])
        let error = try #require(throws: DatasetError.self) { try IDX.read(url, maximumSize: 107) }
        #expect(error.description == "\(url.path): 108 bytes is more than the 107 this file may hold")
    }
}
