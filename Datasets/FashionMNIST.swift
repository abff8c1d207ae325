import Foundation
import TensorCore

/// Zalando's Fashion-MNIST: 70 000 gray 28×28 pictures of clothing in ten classes
/// (60 000 for training, 10 000 for testing), read from the four IDX `.gz` files.
///
/// The files are looked for in `$FASHION_MNIST_DIR` if it is set, else in
/// `/usr/share/datasets/fashion-mnist`, where Debian's `dataset-fashion-mnist` package puts them.
public enum FashionMNIST {
    /// The ten class names, by label.
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// Where Debian's `dataset-fashion-mnist` package installs the files.
    public static let systemDirectory = "/usr/share/datasets/fashion-mnist"

    /// The side of every image, in pixels.
    public static let imageSide = 28

    /// The environment variable that points to another directory holding the files.
    public static let environmentVariable = "FASHION_MNIST_DIR"

    /// How to get the data, for error messages and notices.
    public static let installHint = "install it with `sudo apt-get install dataset-fashion-mnist`, or download the four .gz files "
        + "from https://github.com/zalandoresearch/fashion-mnist and set FASHION_MNIST_DIR to their folder"

    /// The training or the test part.
    public enum Split: String, Sendable, CaseIterable {
        /// 60 000 images.
        case train
        /// 10 000 images.
        case test

        /// How many images the published split holds; a file with more is refused.
        public var imageCount: Int { self == .train ? 60_000 : 10_000 }
        /// The image file's name.
        public var imagesFile: String { self == .train ? "train-images-idx3-ubyte.gz" : "t10k-images-idx3-ubyte.gz" }
        /// The label file's name.
        public var labelsFile: String { self == .train ? "train-labels-idx1-ubyte.gz" : "t10k-labels-idx1-ubyte.gz" }
    }

    /// The directory the files are looked for in: `$FASHION_MNIST_DIR` if set and not empty,
    /// else ``systemDirectory``.
    public static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let custom = environment[environmentVariable], !custom.isEmpty {
            return URL(fileURLWithPath: custom, isDirectory: true)
        }
        return URL(fileURLWithPath: systemDirectory, isDirectory: true)
    }

    /// Whether both files of `split` are present in `directory` (by default the usual place).
    public static func isAvailable(_ split: Split = .train, in directory: URL = directory()) -> Bool {
        [split.imagesFile, split.labelsFile].allSatisfy { locate($0, in: directory) != nil }
    }

    /// Loads a split as a `[N, 1, H, W]` float32 image tensor with labels 0…9.
    ///
    /// The files' sizes are known, so nothing larger is decompressed or allocated: at most
    /// ``Split/imageCount`` images of 28×28 pixels and as many labels (fewer, a subset, load too).
    ///
    /// - Parameters:
    ///   - split: `.train` (60 000 images) or `.test` (10 000).
    ///   - directory: where the files are; by default `directory()`.
    ///   - normalization: how bytes become values; by default [-1, 1].
    ///   - padding: pixels of black added on each side; 2 turns 28×28 into 32×32, a size that
    ///     halves cleanly through a convolutional network.
    ///   - limit: keep only the first `limit` images.
    /// - Throws: ``DatasetError`` naming the directory or file when files are missing
    ///   (`kind == .missing`, with how to get them) or damaged, when the counts disagree, or when
    ///   the files are larger than the split or the images not 28×28.
    public static func load(_ split: Split, from directory: URL = directory(),
                            normalization: PixelNormalization = .minusOneToOne,
                            padding: Int = 0, limit: Int? = nil) throws -> ImageDataset {
        require(padding >= 0, "FashionMNIST.load: padding must not be negative, got \(padding)")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DatasetError(file: directory.path, problem: "Fashion-MNIST directory does not exist; \(installHint)", kind: .missing)
        }
        guard let imagesURL = locate(split.imagesFile, in: directory) else {
            throw DatasetError(file: directory.appendingPathComponent(split.imagesFile).path,
                               problem: "Fashion-MNIST file is missing; \(installHint)", kind: .missing)
        }
        guard let labelsURL = locate(split.labelsFile, in: directory) else {
            throw DatasetError(file: directory.appendingPathComponent(split.labelsFile).path,
                               problem: "Fashion-MNIST file is missing; \(installHint)", kind: .missing)
        }
        let pixels = imageSide * imageSide
        let images = try IDX.read(imagesURL, expectedMagic: IDX.imageMagic, maximumSize: 16 + split.imageCount * pixels)
        let labels = try IDX.read(labelsURL, expectedMagic: IDX.labelMagic, maximumSize: 8 + split.imageCount)
        let (count, height, width) = (images.dimensions[0], images.dimensions[1], images.dimensions[2])
        guard height == imageSide, width == imageSide else {
            throw DatasetError(file: imagesURL.path, problem: "images are \(height)×\(width) pixels; Fashion-MNIST's are \(imageSide)×\(imageSide)")
        }
        guard labels.dimensions[0] == count else {
            throw DatasetError(file: labelsURL.path,
                               problem: "has \(labels.dimensions[0]) labels but \(imagesURL.lastPathComponent) has \(count) images; the files do not belong together")
        }
        if let bad = labels.bytes.firstIndex(where: { $0 >= classNames.count }) {
            throw DatasetError(file: labelsURL.path, problem: "label \(labels.bytes[bad]) of image \(bad) is not a class 0…9")
        }
        let kept = min(count, max(0, limit ?? count))
        let tensor = imageTensor(images.bytes, count: kept, height: height, width: width,
                                 normalization: normalization, padding: padding)
        return ImageDataset(images: tensor, labels: labels.bytes.prefix(kept).map(Int.init), classNames: classNames,
                            name: "Fashion-MNIST \(split.rawValue)")
    }

    /// The file `name` in `directory`, or its uncompressed twin (without `.gz`), if either exists.
    static func locate(_ name: String, in directory: URL) -> URL? {
        for candidate in [name, String(name.dropLast(3))] {
            let url = directory.appendingPathComponent(candidate)
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        return nil
    }
}

/// `[count, 1, H + 2p, W + 2p]` float32 images from `count × H × W` bytes, normalised and
/// framed with `padding` pixels of black.
func imageTensor(_ bytes: [UInt8], count: Int, height: Int, width: Int,
                 normalization: PixelNormalization, padding: Int) -> Tensor {
    let (paddedHeight, paddedWidth) = (height + 2 * padding, width + 2 * padding)
    let tensor = Tensor.full([count, 1, paddedHeight, paddedWidth], value: Double(normalization.black))
    // A table of the 256 possible values: one lookup per pixel.
    let table = (0...255).map { normalization.value(UInt8($0)) }
    tensor.withElements(Float.self) { out in
        bytes.withUnsafeBufferPointer { source in
            table.withUnsafeBufferPointer { table in
                for n in 0..<count {
                    for y in 0..<height {
                        let from = (n * height + y) * width
                        let to = (n * paddedHeight + y + padding) * paddedWidth + padding
                        for x in 0..<width { out[to + x] = table[Int(source[from + x])] }
                    }
                }
            }
        }
    }
    return tensor
}
