import Datasets
import Foundation
import ImageIO
import NeuralNetworks

// MARK: - Features, classes and scores

extension Evaluator {
    /// The images per forward pass when extracting features (bounds the memory of the convolutions).
    public static let featureBatchSize = 250

    /// The classifier's features of `images`, `[N, featureCount]` (128 for the standard classifier).
    ///
    /// `images` are `[N, 1, 32, 32]`, or `[N, 1, 28, 28]` which are framed with 2 pixels of
    /// black as Fashion-MNIST is padded; their values are in `range`. As when saving a PNG, values
    /// outside the range are clamped and NaN counts as black. Evaluation mode, no gradients, in batches.
    /// - Throws: ``EvaluationError/wrongTensorShape(_:)`` for other shapes.
    public func features(of images: Tensor, range: PixelRange = .minusOneToOne) throws -> Tensor {
        try Self.features(of: images, range: range, classifier: classifier)
    }

    /// The class (0…9) the classifier gives each image.
    public func classify(_ images: Tensor, range: PixelRange = .minusOneToOne) throws -> [Int] {
        Self.predictions(fromFeatures: try features(of: images, range: range), classifier: classifier)
    }

    /// The share of `dataset`'s images (`[N, 1, 28 or 32, …]` in [-1, 1]) classified as labelled, in [0, 1].
    public func accuracy(on dataset: ImageDataset) throws -> Double {
        try labelAgreement(dataset.images, labels: dataset.labels)
    }

    /// The share of `images` the classifier puts in the class of `labels` (one per image), in
    /// [0, 1]: a test set's accuracy, or how often a conditional model draws the class it was asked for.
    public func labelAgreement(_ images: Tensor, labels: [Int], range: PixelRange = .minusOneToOne) throws -> Double {
        guard !labels.isEmpty else { throw EvaluationError.tooFewSamples(0) }
        guard images.rank >= 1, images.shape[0] == labels.count else {
            throw EvaluationError.labelCountMismatch(images: images.rank >= 1 ? images.shape[0] : 0, labels: labels.count)
        }
        return Self.agreement(try classify(images, range: range), labels)
    }

    /// The share of positions where `predictions` and `labels` hold the same class.
    static func agreement(_ predictions: [Int], _ labels: [Int]) -> Double {
        Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }

    /// FID-FMNIST of `images`: the Fréchet distance between the Gaussian of their features and that
    /// of the real test images. 0 would be a perfect match; it falls as the sample count grows, so
    /// compare scores at equal counts (and with ``floor(sampleCount:seed:dataDirectory:)``).
    public func frechetDistance(of images: Tensor, range: PixelRange = .minusOneToOne) throws -> Double {
        try score(images, range: range).fid
    }

    /// Which classes `images` fall into (see ``ClassCoverage`` for the rule).
    public func coverage(of images: Tensor, range: PixelRange = .minusOneToOne,
                         minimumShare: Double = ClassCoverage.defaultMinimumShare) throws -> ClassCoverage {
        ClassCoverage(labels: try classify(images, range: range), classNames: FashionMNIST.classNames, minimumShare: minimumShare)
    }

    /// FID-FMNIST and class coverage of `images` (at least 2), from one pass of the classifier.
    public func score(_ images: Tensor, range: PixelRange = .minusOneToOne,
                      minimumShare: Double = ClassCoverage.defaultMinimumShare) throws -> SampleScore {
        guard images.rank >= 1, images.shape[0] >= 2 else { throw EvaluationError.tooFewSamples(images.rank >= 1 ? images.shape[0] : 0) }
        let features = try features(of: images, range: range)                           // [N, F]
        let statistics = GaussianStatistics(features: features)
        let labels = Self.predictions(fromFeatures: features, classifier: classifier)
        return SampleScore(fid: statistics.frechetDistance(to: reference),
                           coverage: ClassCoverage(labels: labels, classNames: FashionMNIST.classNames, minimumShare: minimumShare),
                           sampleCount: images.shape[0], classifierName: configuration.name, classifierTestAccuracy: testAccuracy)
    }

    /// The floor: the score of `sampleCount` real training images, picked at random by `seed` —
    /// what a generator that reproduced the training distribution perfectly would score at that
    /// sample count. Generated samples should be judged against this, not against 0.
    public func floor(sampleCount: Int = 10_000, seed: UInt64 = 0,
                      dataDirectory: URL = FashionMNIST.directory()) throws -> SampleScore {
        try score(Self.realTrainingImages(count: sampleCount, seed: seed, dataDirectory: dataDirectory))
    }

    /// Precision and recall of `images` (see ``PrecisionRecall``) against as many real test images
    /// (at most all 10,000), picked at random by `seed`: the images FID compares with.
    public func precisionRecall(of images: Tensor, range: PixelRange = .minusOneToOne, k: Int = 3, seed: UInt64 = 0,
                                dataDirectory: URL = FashionMNIST.directory()) throws -> PrecisionRecall {
        guard images.rank >= 1 else { throw EvaluationError.wrongTensorShape(images.shape) }
        let real = try Self.realImages(.test, count: min(images.shape[0], 10_000), seed: seed, dataDirectory: dataDirectory)
        return try PrecisionRecall(real: features(of: real), generated: features(of: images, range: range), k: k)
    }

    /// `count` (at most 60 000) training images in a random order fixed by `seed`, `[count, 1, 32, 32]` in [-1, 1].
    public static func realTrainingImages(count: Int, seed: UInt64 = 0,
                                          dataDirectory: URL = FashionMNIST.directory()) throws -> Tensor {
        try realImages(.train, count: count, seed: seed, dataDirectory: dataDirectory)
    }

    /// `count` images of `split` in a random order fixed by `seed`, `[count, 1, 32, 32]` in [-1, 1].
    static func realImages(_ split: FashionMNIST.Split, count: Int, seed: UInt64, dataDirectory: URL) throws -> Tensor {
        let images = try FashionMNIST.load(split, from: dataDirectory, padding: 2)
        guard count >= 2, count <= images.count else {
            throw EvaluationError.impossibleSampleCount(requested: count, available: images.count)
        }
        var generator = RandomGenerator(seed: seed)
        return images.subset(Array(generator.permutation(images.count).prefix(count))).images
    }

    // MARK: - Internals shared with training

    static func features(of images: Tensor, range: PixelRange, classifier: FashionClassifier) throws -> Tensor {
        guard images.rank == 4, images.shape[1] == 1,
              (images.shape[2] == 32 && images.shape[3] == 32) || (images.shape[2] == 28 && images.shape[3] == 28) else {
            throw EvaluationError.wrongTensorShape(images.shape)
        }
        let n = images.shape[0]
        classifier.eval()
        return withoutGradients {
            var parts: [Tensor] = []
            for start in stride(from: 0, to: n, by: featureBatchSize) {
                let batch = prepared(images.slice(start..<min(start + featureBatchSize, n), alongAxis: 0), range: range)  // [B, 1, 32, 32]
                parts.append(classifier.features(batch))                                                                   // [B, F]
            }
            return parts.isEmpty ? Tensor.zeros([0, classifier.featureCount]) : Tensor.concatenate(parts, alongAxis: 0)
        }
    }

    /// The predicted class of each row of `features` (argmax of the head's logits).
    static func predictions(fromFeatures features: Tensor, classifier: FashionClassifier) -> [Int] {
        guard features.shape[0] > 0 else { return [] }
        return withoutGradients { classifier.head(features).argmaxLastAxis() }
    }

    /// A float32 copy in [-1, 1] (clamped, NaN → black), framed to 32×32.
    static func prepared(_ images: Tensor, range: PixelRange) -> Tensor {
        let copy = images.detached().converted(to: .float32).copy()
        copy.withElements(Float.self) { values in
            for i in values.indices {
                let unit = range.unitValue(values[i])                        // 0 = black, 1 = white
                values[i] = unit.isNaN ? -1 : Swift.min(Swift.max(unit, 0), 1) * 2 - 1
            }
        }
        guard copy.shape[2] == 28 else { return copy }
        return copy.padded([(0, 0), (0, 0), (2, 2), (2, 2)], value: -1)
    }
}
