import Datasets
import Foundation
import GenerativeModels
import ImageIO
import TensorCore

/// Shared, trained-once fixtures: the `.quick` classifier cached in a temporary folder (a few
/// seconds to train), so that no test depends on the standard classifier's cache existing.
enum Fixtures {
    /// The folder holding the cached quick evaluator, or nil when it could not be trained.
    static let quickCache: URL? = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fid-fmnist-tests-\(UUID())")
        do {
            _ = try Evaluator.loadOrTrain(cacheDirectory: folder, configuration: .quick, report: { _ in })
            return folder
        } catch {
            print("Fixtures.quickCache: \(error)")
            return nil
        }
    }()

    /// A fresh evaluator loaded from the quick cache.
    static func quickEvaluator() throws -> Evaluator {
        guard let quickCache else { throw FixtureError(problem: "the quick classifier could not be trained (is Fashion-MNIST installed?)") }
        var trained = false
        let evaluator = try Evaluator.loadOrTrain(cacheDirectory: quickCache, configuration: .quick) { event in
            if case .trainingStarted = event { trained = true }
        }
        if trained { throw FixtureError(problem: "the quick classifier's cache was not used") }
        return evaluator
    }

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
