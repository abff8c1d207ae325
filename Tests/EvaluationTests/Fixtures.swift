import Datasets
import Foundation
import Evaluation
import ImageIO
import TensorCore

/// Shared fixtures: the book's committed classifier, a tiny configuration that trains in well
/// under a second, folders of images.
enum Fixtures {
    /// The book's evaluator, loaded from the module's resources.
    static func standardEvaluator() throws -> Evaluator { try Evaluator.standard() }

    /// A tiny configuration that trains in well under a second.
    static let tiny = ClassifierConfiguration(name: "tiny", widths: [4, 8, 8], featureCount: 16, epochs: 1, trainingImages: 256,
                                              batchSize: 32, learningRate: 3e-3, mirrorImages: true, seed: 5)

    /// A fresh temporary folder.
    static func temporaryFolder(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes the first `count` Fashion-MNIST test images as 28×28 gray PNGs; returns the folder.
    static func testImageFolder(count: Int) throws -> URL {
        let folder = try temporaryFolder("fmnist-pngs")
        let test = try FashionMNIST.load(.test, limit: count)                   // [count, 1, 28, 28] in [-1, 1]
        for index in 0..<count {
            let image = test.images.slice(index..<(index + 1), alongAxis: 0).reshaped([1, 28, 28])
            try PNG.write(image, range: .minusOneToOne, to: folder.appendingPathComponent(String(format: "sample-%04d.png", index)))
        }
        return folder
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let problem: String
    var description: String { problem }
}
