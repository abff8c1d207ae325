/// What went wrong scoring images, in one line that says which file or value was at fault.
public enum EvaluationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The samples folder does not exist.
    case missingFolder(String)
    /// The path exists but is a file, not a folder.
    case notAFolder(String)
    /// The folder holds no PNG files.
    case emptyFolder(String)
    /// A PNG file could not be decoded (the file, and why).
    case unreadableImage(file: String, reason: String)
    /// An image is neither 28×28 nor 32×32.
    case wrongImageSize(file: String, width: Int, height: Int)
    /// Images handed to the evaluator in memory have a shape it cannot read.
    case wrongTensorShape([Int])
    /// Too few samples for a covariance.
    case tooFewSamples(Int)
    /// Images and their class labels differ in number.
    case labelCountMismatch(images: Int, labels: Int)
    /// More real images asked for than there are (or fewer than 2).
    case impossibleSampleCount(requested: Int, available: Int)
    /// A classifier configuration with impossible values.
    case invalidConfiguration(String)
    /// The book's classifier cannot be read (why).
    case classifierUnavailable(String)

    public var description: String {
        switch self {
        case .missingFolder(let path): return "\(path): no such folder"
        case .notAFolder(let path): return "\(path): is a file, not a folder of PNG images"
        case .emptyFolder(let path): return "\(path): the folder holds no .png files to score"
        case .unreadableImage(let file, let reason): return "\(file): unreadable PNG (\(reason))"
        case .wrongImageSize(let file, let width, let height):
            return "\(file): image is \(width)×\(height); FID-FMNIST scores 28×28 or 32×32 Fashion-MNIST-sized images"
        case .wrongTensorShape(let shape):
            return "images of shape \(shape) cannot be scored; expected [N, 1, 28, 28] or [N, 1, 32, 32]"
        case .tooFewSamples(let count): return "\(count) sample\(count == 1 ? "" : "s") cannot be scored; FID needs at least 2 (and means more with thousands)"
        case .labelCountMismatch(let images, let labels):
            return "\(images) image\(images == 1 ? "" : "s") but \(labels) label\(labels == 1 ? "" : "s"): each image needs the class it should show"
        case .impossibleSampleCount(let requested, let available):
            return "a sample of \(requested) real images is not possible: choose between 2 and \(available)"
        case .invalidConfiguration(let problem): return problem
        case .classifierUnavailable(let problem):
            return "the FID-FMNIST classifier cannot be loaded: \(problem); `\(Evaluator.trainingCommand)` rebuilds it (76 s on a 2-core AMD EPYC, Zen 4), "
                + "or `git checkout Sources/Evaluation/\(Evaluator.committedFileName)` restores the committed one"
        }
    }
}
