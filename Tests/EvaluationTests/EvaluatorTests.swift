import Datasets
import Foundation
@testable import Evaluation
import NeuralNetworks
import Notebook
import TestSupport
import Testing

@Suite struct ClassifierTests {
    @Test func layersAndShapes() {
        var generator = RandomGenerator(seed: 1)
        let model = FashionClassifier(widths: [4, 8, 16], featureCount: 12, using: &generator)
        let images = Tensor.randomUniform([3, 1, 32, 32], low: -1, high: 1, using: &generator)
        #expect(model.features(images).shape == [3, 12])
        expectEveryStoredMemberListed(model)
        #expect(model(images).shape == [3, 10])
        let names = model.stateDict().map(\.name)
        #expect(names.contains("body.0.weight") && names.contains("body.1.running_mean") && names.contains("body.13.weight")
                && names.contains("head.weight"))
    }

    @Test func trainingIsDeterministicForASeed() throws {
        let data = try FashionMNIST.load(.test, padding: 2, limit: 256)
        func weights(_ configuration: ClassifierConfiguration) throws -> [[Float]] {
            try ClassifierTraining.train(configuration, on: data).stateDict().map(\.tensor.floats)
        }
        let first = try weights(Fixtures.tiny), second = try weights(Fixtures.tiny)
        #expect(first == second)
        var reseeded = Fixtures.tiny
        reseeded.seed += 1
        #expect(try weights(reseeded) != first)
    }

    @Test func impossibleConfigurationsAreRejected() throws {
        var bad = Fixtures.tiny
        bad.epochs = 0
        let data = try FashionMNIST.load(.test, padding: 2, limit: 64)
        #expect(throws: EvaluationError.self) { try ClassifierTraining.train(bad, on: data) }
        let unpadded = try FashionMNIST.load(.test, limit: 64)
        #expect(throws: EvaluationError.wrongTensorShape([64, 1, 28, 28])) { try ClassifierTraining.train(Fixtures.tiny, on: unpadded) }
    }
}

@Suite struct EvaluatorTests {
    @Test func realImagesScoreLowAndSpoiledImagesHigher() throws {
        let evaluator = try Fixtures.standardEvaluator()
        #expect(evaluator.testAccuracy >= 0.91)
        let test = try FashionMNIST.load(.test, padding: 2, limit: 1000)
        let accuracy = try evaluator.accuracy(on: test)
        #expect(abs(accuracy - evaluator.testAccuracy) < 0.05)
        // Label agreement is the share classified as asked: the accuracy for the true labels, and
        // for labels shifted by one class, only the rare confusions that happen to match.
        let predictions = try evaluator.classify(test.images)
        #expect(try evaluator.labelAgreement(test.images, labels: test.labels) == accuracy)
        #expect(accuracy == Double(zip(predictions, test.labels).filter { $0 == $1 }.count) / 1000)
        #expect(try evaluator.labelAgreement(test.images, labels: test.labels.map { ($0 + 1) % 10 }) < 0.1)
        #expect(throws: EvaluationError.labelCountMismatch(images: 1000, labels: 3)) {
            try evaluator.labelAgreement(test.images, labels: [0, 1, 2])
        }
        let real = try evaluator.score(test.images)
        #expect(real.coverage.coveredCount == 10 && real.coverage.evenness > 0.95)
        var generator = RandomGenerator(seed: 0)
        let noisy = try evaluator.score(Degradation.gaussianNoise(standardDeviation: 0.5).apply(to: test.images, using: &generator))
        let blurred = try evaluator.score(Degradation.gaussianBlur(sigma: 1.5).apply(to: test.images, using: &generator))
        #expect(noisy.fid > 3 * real.fid && blurred.fid > 3 * real.fid, "real \(real.fid), noisy \(noisy.fid), blurred \(blurred.fid)")
        // One class only: the coverage sees the collapse.
        let trousers = try evaluator.coverage(of: test.filtered(toClass: 1).images)
        #expect(trousers.coveredCount <= 2 && trousers.evenness < 0.3)
    }

    @Test func featuresAcceptBothSizesAndBothRanges() throws {
        let evaluator = try Fixtures.standardEvaluator()
        let small = try FashionMNIST.load(.test, limit: 40)                                   // [40, 1, 28, 28]
        let padded = try FashionMNIST.load(.test, padding: 2, limit: 40)                      // [40, 1, 32, 32]
        let reference = try evaluator.features(of: padded.images)
        #expect(reference.shape == [40, evaluator.classifier.featureCount])
        #expect(try evaluator.features(of: small.images).floats == reference.floats)
        let unit = try FashionMNIST.load(.test, normalization: .zeroToOne, padding: 2, limit: 40)
        let fromUnit = try evaluator.features(of: unit.images, range: .zeroToOne).floats
        #expect(zip(fromUnit, reference.floats).allSatisfy { abs($0 - $1) < 1e-4 })
        // Values beyond [-1, 1] are clamped, as a PNG would be.
        #expect(try evaluator.features(of: padded.images * 3).floats == evaluator.features(of: (padded.images * 3).clamped(min: -1, max: 1)).floats)
    }

    @Test func wrongShapesAndTooFewSamplesThrow() throws {
        let evaluator = try Fixtures.standardEvaluator()
        #expect(throws: EvaluationError.wrongTensorShape([2, 3, 32, 32])) { try evaluator.features(of: Tensor.zeros([2, 3, 32, 32])) }
        #expect(throws: EvaluationError.wrongTensorShape([2, 1, 30, 30])) { try evaluator.score(Tensor.zeros([2, 1, 30, 30])) }
        #expect(throws: EvaluationError.tooFewSamples(1)) { try evaluator.score(Tensor.zeros([1, 1, 32, 32])) }
    }

    @Test func theFloorIsLowerThanSpoiledImages() throws {
        let evaluator = try Fixtures.standardEvaluator()
        let floor = try evaluator.floor(sampleCount: 500, seed: 1)
        #expect(floor.sampleCount == 500 && floor.coverage.coveredCount == 10)
        var generator = RandomGenerator(seed: 1)
        let spoiled = Degradation.gaussianNoise(standardDeviation: 0.3)
            .apply(to: try Evaluator.realTrainingImages(count: 500, seed: 1), using: &generator)
        #expect(try evaluator.score(spoiled).fid > floor.fid)
        #expect(throws: EvaluationError.impossibleSampleCount(requested: 60_001, available: 60_000)) {
            try Evaluator.realTrainingImages(count: 60_001)
        }
    }

    /// The committed file is the book's yardstick: it is what `standard()` loads, it was made with
    /// the standard configuration, and its classifier is at least 91% accurate on the test images,
    /// measured here again. Real test images score as the floor: their features are the reference.
    @Test func theCommittedClassifierIsWhatTheLoaderUses() throws {
        let bundled = try #require(Evaluator.resourceFile)
        #expect(try Data(contentsOf: bundled) == Data(contentsOf: Evaluator.committedFile),
                "the resource the build copied is the file in the repository")
        let evaluator = try Evaluator.standard()
        #expect(evaluator.configuration == .standard)
        let committed = try Evaluator.load(from: Evaluator.committedFile, expecting: .standard)
        #expect(evaluator.classifier.stateDict().map(\.tensor.floats) == committed.classifier.stateDict().map(\.tensor.floats))
        let test = try FashionMNIST.load(.test, padding: 2)
        let accuracy = try evaluator.accuracy(on: test)
        #expect(accuracy >= 0.91, "measured \(accuracy)")
        #expect(abs(accuracy - evaluator.testAccuracy) <= 0.002, "measured \(accuracy), recorded \(evaluator.testAccuracy)")
        let file = try SafeTensors(contentsOf: Evaluator.committedFile)
        #expect(file.metadata["command"] == Evaluator.trainingCommand)
        let real = try evaluator.score(test.images)
        #expect(real.fid < 1e-3, "the real test images are the reference itself: \(real.fid)")
    }

    @Test func aMissingOrDamagedClassifierNamesTheCommandThatRebuildsIt() throws {
        let folder = try Fixtures.temporaryFolder("evaluator-damaged")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("fmnist-classifier.safetensors")
        try Data("not a safetensors file".utf8).write(to: file)
        #expect(throws: SafeTensorsError.self) { try Evaluator.load(from: file) }
        let message = "\(EvaluationError.classifierUnavailable("\(file.path): not a readable safetensors file"))"
        #expect(message.contains("swift run -c release Evaluate --train-classifier") && message.contains(file.path))
    }

    @Test func aSavedEvaluatorRoundTripsAndRejectsOtherConfigurations() throws {
        var bars: [String] = []
        let evaluator = try Evaluator.train(Fixtures.tiny) { label, total in
            bars.append("\(label): \(total)")
            return ProgressBar(label: label, total: total)
        }
        #expect(bars == ["classifier, epoch 1/1: 8"])            // 256 images in batches of 32, through the caller's bars
        let folder = try Fixtures.temporaryFolder("evaluator-file")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("copy.safetensors")
        try evaluator.save(to: file)
        let loaded = try Evaluator.load(from: file, expecting: Fixtures.tiny)
        #expect(loaded.testAccuracy == evaluator.testAccuracy && loaded.reference == evaluator.reference)
        let images = try FashionMNIST.load(.test, padding: 2, limit: 20).images
        #expect(try loaded.features(of: images).floats == evaluator.features(of: images).floats)
        #expect {
            try Evaluator.load(from: file, expecting: .standard)
        } throws: { error in
            "\(error)".contains("made for classifier configuration 'tiny'")
        }
    }
}
