import NeuralNetworks

/// A small convolutional classifier of 32×32 Fashion-MNIST images in [-1, 1]: the feature
/// extractor behind FID-FMNIST, as Inception-v3 is behind the usual FID.
///
///     [N, 1, 32, 32]
///     → Conv 3×3 (1 → w₁)  BatchNorm ReLU AvgPool 2    [N, w₁, 16, 16]
///     → Conv 3×3 (w₁ → w₂) BatchNorm ReLU AvgPool 2    [N, w₂, 8, 8]
///     → Conv 3×3 (w₂ → w₃) BatchNorm ReLU AvgPool 2    [N, w₃, 4, 4]
///     → flatten → Linear (w₃·16 → F) ReLU              [N, F]   the features
///     → Linear (F → 10)                                [N, 10]  class logits
///
/// The standard FID-FMNIST classifier has widths (16, 32, 64) and F = 128. Average pooling stands in for max pooling
/// (the tensor core has no max pool); it works as well on images this small.
public final class FashionClassifier: Module, Layer {
    /// The convolutional trunk and the feature layer: `[N, 1, 32, 32]` → `[N, featureCount]`.
    public let body: Sequential
    /// The last layer: features → 10 class logits.
    public let head: Linear
    /// The length of a feature vector.
    public let featureCount: Int

    /// The number of classes (Fashion-MNIST's ten).
    public static let classCount = 10
    /// The side of the square images the classifier reads.
    public static let imageSize = 32

    /// A freshly initialised classifier with convolution widths `widths` (three of them) and
    /// `featureCount` features, PyTorch's default initialisation drawn from `generator`.
    public init(widths: [Int] = [16, 32, 64], featureCount: Int = 128, using generator: inout RandomGenerator) {
        require(widths.count == 3 && widths.allSatisfy { $0 > 0 } && featureCount > 0,
                "FashionClassifier: expected three positive widths and a positive feature count, got \(widths), \(featureCount)")
        var layers: [any Layer] = []
        var channels = 1
        for width in widths {
            layers += [Conv2d(inputChannels: channels, outputChannels: width, kernelSize: 3, padding: 1, using: &generator),
                       BatchNorm2d(featureCount: width), ReLU(), AvgPool2d(kernelSize: 2)]
            channels = width
        }
        let side = Self.imageSize / 8                                        // 32 → 16 → 8 → 4
        layers += [Flatten(), Linear(inputCount: channels * side * side, outputCount: featureCount, using: &generator), ReLU()]
        body = Sequential(layers)
        head = Linear(inputCount: featureCount, outputCount: Self.classCount, using: &generator)
        self.featureCount = featureCount
    }

    public override var children: [(name: String, module: Module)] { [("body", body), ("head", head)] }

    /// The features: `[N, 1, 32, 32]` → `[N, featureCount]` (after the ReLU of the feature layer).
    public func features(_ images: Tensor) -> Tensor {
        require(images.rank == 4 && images.shape[1] == 1 && images.shape[2] == Self.imageSize && images.shape[3] == Self.imageSize,
                "FashionClassifier: expected [N, 1, 32, 32] images, got \(images.shape)")
        return body(images)
    }

    /// Class logits: `[N, 1, 32, 32]` → `[N, 10]`.
    public func callAsFunction(_ images: Tensor) -> Tensor {
        head(features(images))
    }
}
