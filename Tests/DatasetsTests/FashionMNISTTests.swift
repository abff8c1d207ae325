import Datasets
import Foundation
import TensorCore
import Testing

@Suite struct FashionMNISTTests {
    @Test func trainingSplitIsTheRealData() throws {
        let train = try FashionMNIST.load(.train)
        #expect(train.count == 60_000)
        #expect(train.images.shape == [60_000, 1, 28, 28])
        #expect(train.images.dtype == .float32)
        #expect(Array(train.labels.prefix(10)) == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
        // Exactly 6 000 images of each class.
        var perClass = [Int](repeating: 0, count: 10)
        for label in train.labels { perClass[label] += 1 }
        #expect(perClass == [Int](repeating: 6_000, count: 10))
        #expect(train.classNames[9] == "Ankle boot" && train.classNames[0] == "T-shirt/top")
        train.images.withElements(Float.self) { values in
            #expect(values.min()! == -1 && values.max()! == 1)
            // The first image's bytes sum to 76 247 (checked with Python's gzip module).
            let first = values[0..<784].reduce(0.0) { $0 + Double($1) }
            #expect(abs(first - (76_247 / 127.5 - 784)) < 1e-3)
        }
    }

    @Test func testSplitIsTheRealData() throws {
        let test = try FashionMNIST.load(.test, normalization: .zeroToOne)
        #expect(test.count == 10_000 && test.images.shape == [10_000, 1, 28, 28])
        #expect(Array(test.labels.prefix(5)) == [9, 2, 1, 1, 6])
        #expect(test.labels.allSatisfy { (0..<10).contains($0) })
        test.images.withElements(Float.self) { values in
            #expect(values.min()! == 0 && values.max()! == 1)
        }
        #expect(test.name == "Fashion-MNIST test")
    }

    @Test func paddingFramesImagesWithBackground() throws {
        let plain = try FashionMNIST.load(.test, limit: 20)
        let padded = try FashionMNIST.load(.test, padding: 2, limit: 20)
        #expect(plain.count == 20 && padded.images.shape == [20, 1, 32, 32])
        let (inner, outer) = (plain.images.floats, padded.images.floats)
        for n in 0..<20 {
            for y in 0..<32 {
                for x in 0..<32 {
                    let value = outer[(n * 32 + y) * 32 + x]
                    if (2..<30).contains(y) && (2..<30).contains(x) {
                        #expect(value == inner[(n * 28 + y - 2) * 28 + x - 2])
                    } else {
                        #expect(value == -1)                  // black in [-1, 1]
                    }
                }
            }
        }
        let zeroOne = try FashionMNIST.load(.test, normalization: .zeroToOne, padding: 2, limit: 3)
        #expect(zeroOne.images.floats[0] == 0)
    }

    @Test func directoryComesFromTheEnvironment() {
        #expect(FashionMNIST.directory(environment: ["FASHION_MNIST_DIR": "/data/fm"]).path == "/data/fm")
        #expect(FashionMNIST.directory(environment: [:]).path == "/usr/share/datasets/fashion-mnist")
        #expect(FashionMNIST.directory(environment: ["FASHION_MNIST_DIR": ""]).path == "/usr/share/datasets/fashion-mnist")
        #expect(FashionMNIST.isAvailable(.train) && FashionMNIST.isAvailable(.test))
    }

    // MARK: - Missing data says where it looked and how to get it

    @Test func directoryWithoutTheFiles() throws {
        let empty = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: empty) }
        let error = try #require(throws: DatasetError.self) { try FashionMNIST.load(.train, from: empty) }
        #expect(error.kind == .missing)
        #expect(error.description.contains(empty.path))
        #expect(error.description.contains("train-images-idx3-ubyte.gz"))
        #expect(error.description.contains("sudo apt-get install dataset-fashion-mnist"))
        #expect(error.description.contains("FASHION_MNIST_DIR"))
        #expect(!FashionMNIST.isAvailable(.train, in: empty))

        let nowhere = empty.appendingPathComponent("does-not-exist")
        let missing = try #require(throws: DatasetError.self) { try FashionMNIST.load(.test, from: nowhere) }
        #expect(missing.kind == .missing && missing.file == nowhere.path)
        #expect(missing.description.contains("apt-get install dataset-fashion-mnist"))

        // Images present, labels missing: the labels file is named.
        try Fixtures.write(IDX.encode(Fixtures.smallArrays.images), to: empty.appendingPathComponent("train-images-idx3-ubyte.gz"))
        let noLabels = try #require(throws: DatasetError.self) { try FashionMNIST.load(.train, from: empty) }
        #expect(noLabels.file.hasSuffix("train-labels-idx1-ubyte.gz") && noLabels.kind == .missing)
    }

    @Test func smallSplitLoadsAndUncompressedFilesWork() throws {
        let directory = try Fixtures.smallSplit()
        defer { try? FileManager.default.removeItem(at: directory) }
        let small = try FashionMNIST.load(.train, from: directory)
        #expect(small.count == 100 && small.labels == Fixtures.smallArrays.labels.bytes.map(Int.init))

        let raw = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: raw) }
        try Data(IDX.encode(Fixtures.smallArrays.images)).write(to: raw.appendingPathComponent("train-images-idx3-ubyte"))
        try Data(IDX.encode(Fixtures.smallArrays.labels)).write(to: raw.appendingPathComponent("train-labels-idx1-ubyte"))
        let fromRaw = try FashionMNIST.load(.train, from: raw)
        #expect(fromRaw.images.floats == small.images.floats)
    }

    // MARK: - Damaged files are errors that name the file

    @Test func countsThatDisagree() throws {
        let labels = IDXArray(dimensions: [99], bytes: Array(Fixtures.smallArrays.labels.bytes.prefix(99)))
        let error = try Fixtures.loadError(labels: labels)
        #expect(error.file.hasSuffix("train-labels-idx1-ubyte.gz"))
        #expect(error.description.contains("99 labels") && error.description.contains("100 images"))
    }

    @Test func wrongMagic() throws {
        // A label file where the images belong.
        let error = try Fixtures.loadError(images: Fixtures.smallArrays.labels)
        #expect(error.file.hasSuffix("train-images-idx3-ubyte.gz"))
        #expect(error.description.contains("wrong magic number 0x00000801"))
        #expect(error.description.contains("0x00000803"))

        let floats: [UInt8] = [0, 0, 0x0D, 1, 0, 0, 0, 1, 1, 2, 3, 4]
        let floatError = try #require(throws: DatasetError.self) { try IDX.parse(floats, name: "floats.idx") }
        #expect(floatError.description == "floats.idx: element type 0x0D is not supported (only unsigned bytes, 0x08)")
        let text = try #require(throws: DatasetError.self) { try IDX.parse(Array("hello world".utf8), name: "hello.idx") }
        #expect(text.description.hasPrefix("hello.idx: wrong magic number"))
    }

    @Test func sizesThatDoNotMatchTheData() throws {
        var short = IDX.encode(Fixtures.smallArrays.images)
        short.removeLast(784)
        let shortError = try #require(throws: DatasetError.self) { try IDX.parse(short, name: "short.idx") }
        #expect(shortError.description.contains("short.idx: truncated"))
        #expect(shortError.description.contains("100×28×28 = 78400 bytes"))

        let long = IDX.encode(Fixtures.smallArrays.images) + [1, 2, 3]
        let longError = try #require(throws: DatasetError.self) { try IDX.parse(long, name: "long.idx") }
        #expect(longError.description == "long.idx: 3 bytes more than the 100×28×28 = 78400 bytes the header describes")

        let header: [UInt8] = [0, 0, 8, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(throws: DatasetError.self) { try IDX.parse(header, name: "huge.idx") }
        #expect(throws: DatasetError.self) { try IDX.parse([0, 0, 8, 3, 0, 0], name: "cut-header.idx") }
    }

    @Test func labelsOutsideTheClasses() throws {
        var bytes = Fixtures.smallArrays.labels.bytes
        bytes[5] = 12
        let error = try Fixtures.loadError(labels: IDXArray(dimensions: [100], bytes: bytes))
        #expect(error.description.contains("label 12 of image 5"))
    }

    @Test func truncatedAndCorruptGzipFiles() throws {
        let directory = try Fixtures.smallSplit()
        defer { try? FileManager.default.removeItem(at: directory) }
        let imagesURL = directory.appendingPathComponent(FashionMNIST.Split.train.imagesFile)
        let full = Fixtures.smallImagesGzip

        for keep in [1, 10, full.count / 3, full.count - 8, full.count - 1] {
            try full.prefix(keep).write(to: imagesURL)
            let error = try #require(throws: DatasetError.self) { try FashionMNIST.load(.train, from: directory) }
            #expect(error.file == imagesURL.path, "cut at \(keep)")
            #expect(error.description.contains("truncated") || error.description.contains("not gzip"), "cut at \(keep): \(error)")
        }
        var corrupt = full
        corrupt[corrupt.count / 2] ^= 0x5A
        try corrupt.write(to: imagesURL)
        let error = try #require(throws: DatasetError.self) { try FashionMNIST.load(.train, from: directory) }
        #expect(error.file == imagesURL.path && error.description.contains("corrupt gzip data"))
    }

    // MARK: - The fallback

    @Test func fallbackToSyntheticShapesOnlyWhenDataIsMissing() throws {
        let empty = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: empty) }
        let fallback = try ImageDataset.fashionMNISTOrSynthetic(.train, from: empty, padding: 2, syntheticCount: 40)
        #expect(fallback.count == 40 && fallback.images.shape == [40, 1, 32, 32])
        #expect(fallback.classNames == SyntheticShapes.classNames)
        let notice = try #require(fallback.notice)
        #expect(notice.contains(empty.path) && notice.contains("sudo apt-get install dataset-fashion-mnist"))
        #expect(!notice.contains("\n"))

        let real = try ImageDataset.fashionMNISTOrSynthetic(.test, limit: 10)
        #expect(real.notice == nil && real.classNames == FashionMNIST.classNames && real.count == 10)

        // Damaged files are not papered over.
        let damaged = try Fixtures.smallSplit()
        defer { try? FileManager.default.removeItem(at: damaged) }
        try Fixtures.smallImagesGzip.prefix(100).write(to: damaged.appendingPathComponent(FashionMNIST.Split.train.imagesFile))
        #expect(throws: DatasetError.self) { try ImageDataset.fashionMNISTOrSynthetic(.train, from: damaged) }
    }
}
