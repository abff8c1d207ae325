import ArgumentParser
import Evaluation
import Foundation
import ImageIO
import TensorCore

/// Scores a folder of generated Fashion-MNIST-like images (or real ones, as a sanity check) with
/// FID-FMNIST and class coverage.
@main
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Evaluate",
        abstract: "Scores images of clothing with FID-FMNIST, class coverage, precision and recall.",
        discussion: """
            FID-FMNIST is the Fréchet distance between the features of a small Fashion-MNIST classifier on \
            your images and on the 10,000 real test images (lower is better). It falls as the number of \
            images grows, so compare scores at equal counts; `--real N` shows what N real training images \
            score — the floor a perfect generator would reach. The classifier is the book's own, trained once \
            with `--train-classifier` and kept in the repository, so scores compare across machines. \
            Precision (how many images lie where real ones do) and recall (how much of the real images' \
            variety they reach) are measured in the same feature space against as many real test images, \
            with k = 3 nearest neighbours (Kynkäänniemi et al., 2019). \
            Results go to standard output; progress to standard error.
            """)

    @Option(help: ArgumentHelp("Folder of 28×28 or 32×32 PNG images to score (gray, or colour converted to gray).", valueName: "folder"))
    var samples: String?

    @Option(help: ArgumentHelp("Score this many real training images instead (the floor at that sample count).", valueName: "count"))
    var real: Int?

    @Flag(help: "Print one JSON object instead of lines of text.")
    var json = false

    @Flag(help: "Train the book's classifier from its seed (76 s on a 2-core AMD EPYC, Zen 4) and write it to --classifier.")
    var trainClassifier = false

    @Option(help: ArgumentHelp("The classifier file to score with, or to write with --train-classifier (default: the book's, \(Evaluator.committedFileName) in the sources).",
                               valueName: "file"))
    var classifier: String?

    @Option(help: ArgumentHelp("Add Gaussian noise of this standard deviation (in [-1, 1] units) before scoring.", valueName: "sd"))
    var noise: Double?

    @Option(help: ArgumentHelp("Blur with a Gaussian of this standard deviation in pixels before scoring.", valueName: "sigma"))
    var blur: Double?

    @Option(help: "Seed for picking the real images and drawing the noise.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Share of the samples a class needs to count as covered.", valueName: "share"))
    var minClassShare: Double = ClassCoverage.defaultMinimumShare

    @Option(help: "Threads for the numeric kernels (default: every core).")
    var threads: Int?

    /// For experiments with the classifier: a ClassifierConfiguration as JSON for --train-classifier.
    @Option(help: .hidden)
    var classifierConfiguration: String?

    func validate() throws {
        if [samples != nil, real != nil, trainClassifier].filter({ $0 }).count != 1 {
            throw ValidationError("give exactly one of --samples <folder>, --real <count> or --train-classifier")
        }
        if classifierConfiguration != nil && !trainClassifier { throw ValidationError("--classifier-configuration is for --train-classifier") }
        if let real, real < 2 { throw ValidationError("--real needs at least 2 images, got \(real)") }
        if let noise, !(noise >= 0) { throw ValidationError("--noise must not be negative, got \(noise)") }
        if let blur, !(blur > 0) { throw ValidationError("--blur must be positive, got \(blur)") }
        if !(0...1).contains(minClassShare) { throw ValidationError("--min-class-share must be in [0, 1], got \(minClassShare)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        if let threads { Parallel.threadCount = threads }
        if trainClassifier { return try train() }
        // Read the images first: a bad folder should fail in a second, not after training.
        var images: Tensor
        let source: String
        if let samples {
            let folder = try SampleFolder.load(URL(fileURLWithPath: samples, isDirectory: true))
            images = folder.images
            source = "\(folder.files.count) images from \(samples)"
        } else {
            images = try Evaluator.realTrainingImages(count: real!, seed: seed)
            source = "\(real!) real Fashion-MNIST training images (seed \(seed))"
        }
        guard images.shape[0] >= 2 else { throw EvaluationError.tooFewSamples(images.shape[0]) }
        var generator = RandomGenerator(seed: seed &+ 1)
        var spoiled: [String] = []
        if let blur {
            images = Degradation.gaussianBlur(sigma: blur).apply(to: images, using: &generator)
            spoiled.append("blurred (σ = \(blur) px)")
        }
        if let noise {
            images = Degradation.gaussianNoise(standardDeviation: noise).apply(to: images, using: &generator)
            spoiled.append("with noise (σ = \(noise))")
        }
        let evaluator = try classifier.map { try Evaluator.load(from: URL(fileURLWithPath: $0)) } ?? Evaluator.standard()
        let score = try evaluator.score(images, minimumShare: minClassShare)
        let precisionRecall = try evaluator.precisionRecall(of: images, seed: seed)
        let description = ([source] + spoiled).joined(separator: ", ")
        if json {
            var object = score.jsonObject
            object["source"] = description
            object["precision"] = precisionRecall.precision
            object["recall"] = precisionRecall.recall
            object["precision_recall_k"] = precisionRecall.k
            object["precision_recall_real_count"] = precisionRecall.realCount
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("Scored \(description)")
            print(String(format: "Classifier: '%@', %.2f%% accurate on the Fashion-MNIST test images", evaluator.configuration.name,
                         evaluator.testAccuracy * 100))
            for line in score.lines { print(line) }
            print("Precision and recall in the classifier's feature space: \(precisionRecall.line)")
        }
    }

    /// Trains a classifier (the book's, unless `--classifier-configuration` says otherwise) and
    /// writes it with its test accuracy, the command that made it and the machine it was made on.
    func train() throws {
        let configuration = try classifierConfiguration.map {
            try JSONDecoder().decode(ClassifierConfiguration.self, from: Data($0.utf8))
        } ?? .standard
        let url = classifier.map { URL(fileURLWithPath: $0) } ?? Evaluator.committedFile
        FileHandle.standardError.write(Data(("Training the FID-FMNIST classifier '\(configuration.name)': widths \(configuration.widths), "
            + "\(configuration.epochs) epoch\(configuration.epochs == 1 ? "" : "s")\n").utf8))
        let evaluator = try Evaluator.train(configuration)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try evaluator.save(to: url)
        print(String(format: "Classifier '%@': %.2f%% accurate on the Fashion-MNIST test images, trained in %.0f s; written to %@",
                     configuration.name, evaluator.testAccuracy * 100, evaluator.trainingSeconds ?? 0, url.path))
        if url.standardizedFileURL == Evaluator.committedFile.standardizedFileURL {
            print("Build again (swift build) for the chapters to use it.")
        }
    }
}
