import Datasets
import Foundation
import NeuralNetworks
import Notebook

/// FID-FMNIST and class coverage for images of clothing: a Fashion-MNIST classifier, and the
/// statistics of its features on the 10 000 real test images.
///
/// ```swift
/// let evaluator = try Evaluator.standard()             // the book's classifier, kept in the repository
/// let score = try evaluator.score(samples)              // samples: [N, 1, 32, 32] in [-1, 1]
/// print(score.fid, score.coverage.coveredCount)
/// let floor = try evaluator.floor(sampleCount: samples.shape[0])   // what real images score
/// ```
///
/// The trained classifier, its test accuracy and the reference statistics are one safetensors file
/// (PyTorch state-dict names under `classifier.`), committed with the book, so every chapter, every
/// run and every machine scores with the same classifier.
public final class Evaluator {
    /// The feature extractor and classifier, in evaluation mode.
    public let classifier: FashionClassifier
    /// How the classifier was made.
    public let configuration: ClassifierConfiguration
    /// The classifier's accuracy on the 10 000 Fashion-MNIST test images, in [0, 1].
    public let testAccuracy: Double
    /// The mean and covariance of the features of the real test images: what samples are compared with.
    public let reference: GaussianStatistics
    /// How long training took, when it is known (recorded in the file).
    public let trainingSeconds: Double?

    /// The file format; a file of another format is not used.
    static let format = "GenerativeSwift FID-FMNIST evaluator, version 1"

    /// The command that trains the book's classifier and writes ``committedFile``.
    public static let trainingCommand = "swift run -c release Evaluate --train-classifier"

    /// Where the book's classifier lives in the source tree: the file ``trainingCommand`` writes
    /// and the repository holds. Builds copy it into the module's resources, where
    /// ``standard()`` reads it.
    public static let committedFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent(committedFileName)
    public static let committedFileName = "fmnist-classifier.safetensors"

    /// An evaluator from its parts.
    public init(classifier: FashionClassifier, configuration: ClassifierConfiguration, testAccuracy: Double,
                reference: GaussianStatistics, trainingSeconds: Double? = nil) {
        require(reference.dimension == classifier.featureCount,
                "Evaluator: reference statistics of \(reference.dimension) features for a classifier with \(classifier.featureCount)")
        classifier.eval()
        self.classifier = classifier
        self.configuration = configuration
        self.testAccuracy = testAccuracy
        self.reference = reference
        self.trainingSeconds = trainingSeconds
    }

    // MARK: - The book's classifier

    /// The copy of ``committedFile`` among the module's resources.
    static var resourceFile: URL? { Bundle.module.url(forResource: "fmnist-classifier", withExtension: "safetensors") }

    /// The evaluator every chapter, `Evaluate` and `Sample` score with: the classifier trained once
    /// with ``ClassifierConfiguration/standard`` and kept in the repository, so that a score on one
    /// computer is the score on another.
    /// - Throws: ``EvaluationError/classifierUnavailable(_:)`` when the file is missing or damaged,
    ///   naming the command that rebuilds it.
    public static func standard() throws -> Evaluator {
        guard let url = resourceFile else {
            throw EvaluationError.classifierUnavailable("the module's resources hold no \(committedFileName)")
        }
        do {
            return try load(from: url, expecting: .standard)
        } catch {
            throw EvaluationError.classifierUnavailable("\(error)")
        }
    }

    /// Trains a classifier as `configuration` says on Fashion-MNIST's training images, measures its
    /// test accuracy, and computes the reference statistics of the test images. Nothing is written.
    /// `progress` makes the training's progress bars, as in ``ClassifierTraining/train(_:on:progress:)``.
    public static func train(_ configuration: ClassifierConfiguration = .standard,
                             dataDirectory: URL = FashionMNIST.directory(),
                             progress: (_ label: String, _ total: Int) -> ProgressBar = { ProgressBar(label: $0, total: $1) })
        throws -> Evaluator {
        try configuration.validate()
        let size = FashionClassifier.imageSize
        let training = try FashionMNIST.load(.train, from: dataDirectory, padding: (size - 28) / 2,
                                             limit: configuration.trainingImages)
        let start = ContinuousClock.now
        let classifier = try ClassifierTraining.train(configuration, on: training, progress: progress)
        let elapsed = ContinuousClock.now - start
        let test = try FashionMNIST.load(.test, from: dataDirectory, padding: (size - 28) / 2)
        return try Evaluator(classifier: classifier, configuration: configuration, test: test,
                             trainingSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }

    /// An evaluator for `classifier`, measured on `test` (`[N, 1, 32, 32]` images with labels):
    /// its accuracy there and the statistics of its features.
    public convenience init(classifier: FashionClassifier, configuration: ClassifierConfiguration, test: ImageDataset,
                            trainingSeconds: Double? = nil) throws {
        guard test.count >= 2 else { throw EvaluationError.tooFewSamples(test.count) }
        classifier.eval()
        let features = try Self.features(of: test.images, range: .minusOneToOne, classifier: classifier)   // [N, F]
        let predictions = Self.predictions(fromFeatures: features, classifier: classifier)
        self.init(classifier: classifier, configuration: configuration, testAccuracy: Self.agreement(predictions, test.labels),
                  reference: GaussianStatistics(features: features), trainingSeconds: trainingSeconds)
    }

    // MARK: - The file

    /// Writes the classifier, its accuracy and the reference statistics as one safetensors file
    /// (atomically).
    public func save(to url: URL) throws {
        var file = SafeTensors()
        file.tensors = classifier.stateDict().map { ("classifier.\($0.name)", $0.tensor) }
        let statistics = reference.entries(prefix: "reference.test")
        file.tensors += statistics.tensors
        file.metadata = statistics.metadata
        file.metadata["format"] = Self.format
        file.metadata["configuration"] = configuration.json
        file.metadata["test_accuracy"] = String(testAccuracy)
        if let trainingSeconds { file.metadata["training_seconds"] = String(format: "%.1f", trainingSeconds) }
        file.metadata["command"] = configuration == .standard ? Self.trainingCommand : "Evaluate --train-classifier --classifier-configuration '\(configuration.json)'"
        file.metadata["processor"] = "\(Processor.current.model), \(Parallel.threadCount) threads"
        file.metadata["reference"] = "features of the \(reference.count) Fashion-MNIST test images"
        try file.write(to: url)
    }

    /// Reads a file written by `save(to:)`. With `expected`, the file must have been made with that
    /// configuration.
    /// - Throws: ``SafeTensorsError`` naming the file and what is wrong with it.
    public static func load(from url: URL, expecting expected: ClassifierConfiguration? = nil) throws -> Evaluator {
        let file = try SafeTensors(contentsOf: url)
        func fail(_ problem: String) -> SafeTensorsError { SafeTensorsError(file: url.path, problem: problem) }
        guard file.metadata["format"] == format else {
            throw fail("not an FID-FMNIST evaluator of this version (format '\(file.metadata["format"] ?? "none")')")
        }
        guard let json = file.metadata["configuration"],
              let configuration = try? JSONDecoder().decode(ClassifierConfiguration.self, from: Data(json.utf8)) else {
            throw fail("no readable classifier configuration in its metadata")
        }
        if let expected, configuration != expected {
            throw fail("made for classifier configuration '\(configuration.name)' \(json), not '\(expected.name)' \(expected.json)")
        }
        do { try configuration.validate() } catch { throw fail("\(error)") }
        guard let accuracy = file.metadata["test_accuracy"].flatMap(Double.init), (0...1).contains(accuracy) else {
            throw fail("no test accuracy in its metadata")
        }
        let secondsText = file.metadata["training_seconds"]
        let trainingSeconds = secondsText.flatMap(Double.init)
        guard secondsText == nil || trainingSeconds.map({ $0 >= 0 && $0.isFinite }) == true else {
            throw fail("training_seconds is '\(secondsText!)', not a number of seconds")
        }
        var generator = RandomGenerator(seed: configuration.seed)
        let classifier = FashionClassifier(widths: configuration.widths, featureCount: configuration.featureCount, using: &generator)
        let prefix = "classifier."
        let weights = Dictionary(file.tensors.filter { $0.name.hasPrefix(prefix) }.map { (String($0.name.dropFirst(prefix.count)), $0.tensor) },
                                 uniquingKeysWith: { first, _ in first })
        do { try classifier.load(stateDict: weights) } catch { throw fail("\(error)") }
        guard classifier.parameters.allSatisfy({ $0.doubles.allSatisfy(\.isFinite) }) else { throw fail("the classifier's weights are not all finite") }
        guard let reference = GaussianStatistics(file, prefix: "reference.test"), reference.dimension == configuration.featureCount else {
            throw fail("missing or malformed reference statistics 'reference.test.*'")
        }
        return Evaluator(classifier: classifier, configuration: configuration, testAccuracy: accuracy, reference: reference,
                         trainingSeconds: trainingSeconds)
    }
}
