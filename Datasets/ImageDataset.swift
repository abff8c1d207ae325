import TensorCore

/// How pixel bytes 0…255 become numbers.
public enum PixelNormalization: Sendable {
    /// 0 → 0 (black), 255 → 1 (white).
    case zeroToOne
    /// 0 → -1 (black), 255 → 1 (white): the range of a `tanh` output, what GANs and diffusion
    /// models are trained in.
    case minusOneToOne

    /// The value of pixel byte `byte`.
    @inlinable
    public func value(_ byte: UInt8) -> Float {
        switch self {
        case .zeroToOne: return Float(byte) / 255
        case .minusOneToOne: return Float(byte) / 127.5 - 1
        }
    }

    /// The value of a black pixel: the background of Fashion-MNIST, and the padding value.
    public var black: Float { value(0) }
}

/// A labelled set of images: a float32 `[N, C, H, W]` tensor and one label per image.
public struct ImageDataset: @unchecked Sendable {
    // Tensor is a class; an ImageDataset never mutates its images, so sharing is safe.

    /// The images, `[N, C, H, W]`, float32.
    public let images: Tensor
    /// The class of each image, an index into `classNames`.
    public let labels: [Int]
    /// The name of each class.
    public let classNames: [String]
    /// What this is, e.g. "Fashion-MNIST train".
    public let name: String
    /// One line for the reader when this is not the data they asked for (a fallback), else nil.
    public let notice: String?

    /// A dataset of `images` ([N, C, H, W]) and their `labels`.
    public init(images: Tensor, labels: [Int], classNames: [String], name: String, notice: String? = nil) {
        require(images.rank == 4, "ImageDataset: images must be [N, C, H, W], got \(images.shape)")
        require(images.shape[0] == labels.count,
                "ImageDataset: \(images.shape[0]) images but \(labels.count) labels")
        (self.images, self.labels, self.classNames, self.name, self.notice) = (images, labels, classNames, name, notice)
    }

    /// The number of images.
    public var count: Int { labels.count }
    /// `[C, H, W]` of one image.
    public var imageShape: [Int] { Array(images.shape.dropFirst()) }

    /// The images and labels at `indices`, in that order.
    public func subset(_ indices: [Int], name: String? = nil) -> ImageDataset {
        ImageDataset(images: gatherSamples(images, indices), labels: indices.map { labels[$0] },
                     classNames: classNames, name: name ?? self.name, notice: notice)
    }

    /// The first `count` images (all of them if there are fewer).
    public func prefix(_ count: Int) -> ImageDataset {
        subset(Array(0..<min(max(count, 0), self.count)), name: "\(name) (first \(min(max(count, 0), self.count)))")
    }

    /// Only the images of class `label`.
    public func filtered(toClass label: Int) -> ImageDataset {
        let className = classNames.indices.contains(label) ? classNames[label] : "class \(label)"
        return subset(labels.indices.filter { labels[$0] == label }, name: "\(name) (\(className))")
    }
}

/// Rows `indices` of a tensor along its first axis: `[indices.count, …]`, a new tensor.
func gatherSamples(_ tensor: Tensor, _ indices: [Int]) -> Tensor {
    require(tensor.rank >= 1, "gatherSamples: a scalar has no samples")
    let rows = tensor.shape[0]
    let sampleSize = rows == 0 ? 0 : tensor.count / rows
    let result = Tensor.zeros([indices.count] + tensor.shape.dropFirst(), dtype: tensor.dtype)
    func copy<T: TensorScalar>(_: T.Type) {
        tensor.withElements(T.self) { source in
            result.withElements(T.self) { target in
                for (i, row) in indices.enumerated() {
                    require(row >= 0 && row < rows, "gatherSamples: index \(row) out of range 0..<\(rows)")
                    guard sampleSize > 0 else { continue }
                    (target.baseAddress! + i * sampleSize).update(from: source.baseAddress! + row * sampleSize, count: sampleSize)
                }
            }
        }
    }
    switch tensor.dtype {
    case .float32: copy(Float.self)
    case .float64: copy(Double.self)
    }
    return result
}
