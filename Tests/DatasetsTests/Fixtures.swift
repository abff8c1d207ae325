import Datasets
import Foundation
import Testing

/// Shared test material: the real Fashion-MNIST files (loaded once) and small IDX files made
/// from them in temporary directories.
enum Fixtures {
    /// The installed Fashion-MNIST directory (CI installs `dataset-fashion-mnist`).
    static let realDirectory = FashionMNIST.directory()

    /// The raw first 100 training images and labels, read once.
    static let smallArrays: (images: IDXArray, labels: IDXArray) = {
        let images = try! IDX.read(realDirectory.appendingPathComponent(FashionMNIST.Split.train.imagesFile))
        let labels = try! IDX.read(realDirectory.appendingPathComponent(FashionMNIST.Split.train.labelsFile))
        return (IDXArray(dimensions: [100, 28, 28], bytes: Array(images.bytes.prefix(100 * 784))),
                IDXArray(dimensions: [100], bytes: Array(labels.bytes.prefix(100))))
    }()

    /// The gzip bytes of the first 100 training images, as an IDX file.
    static let smallImagesGzip: Data = Gzip.compress(IDX.encode(smallArrays.images))

    /// A fresh empty directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("DatasetsTests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A directory holding a small "train" split: `images` and `labels` IDX arrays, gzip-compressed.
    static func smallSplit(images: IDXArray? = nil, labels: IDXArray? = nil) throws -> URL {
        let directory = try temporaryDirectory()
        try write(IDX.encode(images ?? smallArrays.images), to: directory.appendingPathComponent(FashionMNIST.Split.train.imagesFile))
        try write(IDX.encode(labels ?? smallArrays.labels), to: directory.appendingPathComponent(FashionMNIST.Split.train.labelsFile))
        return directory
    }

    /// What `FashionMNIST.load` throws for a small "train" split of `images` and `labels` (a test
    /// that expects a damaged split to be refused fails here if it loads).
    static func loadError(images: IDXArray? = nil, labels: IDXArray? = nil,
                          sourceLocation: SourceLocation = #_sourceLocation) throws -> DatasetError {
        let directory = try smallSplit(images: images, labels: labels)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try #require(throws: DatasetError.self, sourceLocation: sourceLocation) { try FashionMNIST.load(.train, from: directory) }
    }

    static func write(_ idx: [UInt8], to url: URL) throws {
        try Gzip.compress(idx).write(to: url)
    }
}
