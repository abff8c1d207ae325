import NeuralNetworks

/// The DCGAN generator of the source (§4.1): a latent vector grows into a 32×32 image through
/// four 4×4 transposed convolutions, each doubling the size — 1 → 4 → 8 → 16 → 32 — with
/// BatchNorm and ReLU between them and Tanh at the end, so pixels land in (−1, 1).
///
/// With `classCount`, it is class-conditional: a learned embedding of the label is appended to the
/// latent vector, so the same network can be asked for a particular class.
public final class DCGANGenerator: Module, ConfigurableModel {
    public let configuration: Configuration
    public let latentCount: Int
    public let classCount: Int
    /// Present for a class-conditional generator.
    public let labelEmbedding: Embedding?
    /// ConvT BN ReLU ×3, ConvT Tanh, as PyTorch's `nn.Sequential` named `main`.
    public let main: Sequential

    /// `widths` are the channel counts after the first three layers: the source uses [512, 256, 128].
    public init(latentCount: Int = 100, widths: [Int] = [512, 256, 128], imageChannels: Int = 1, classCount: Int = 0,
                using generator: inout RandomGenerator) {
        require(widths.count == 3, "DCGANGenerator: expected three widths, got \(widths)")
        configuration = Configuration(latentCount: latentCount, widths: widths, imageChannels: imageChannels, classCount: classCount)
        self.latentCount = latentCount
        self.classCount = classCount
        labelEmbedding = classCount > 0 ? Embedding(count: classCount, dimension: classCount, using: &generator) : nil
        let input = latentCount + (classCount > 0 ? classCount : 0)
        main = Sequential([
            ConvTranspose2d(inputChannels: input, outputChannels: widths[0], kernelSize: 4, stride: 1, padding: 0, bias: false, using: &generator),
            BatchNorm2d(featureCount: widths[0]), ReLU(),                                                   // 4×4
            ConvTranspose2d(inputChannels: widths[0], outputChannels: widths[1], kernelSize: 4, stride: 2, padding: 1, bias: false, using: &generator),
            BatchNorm2d(featureCount: widths[1]), ReLU(),                                                   // 8×8
            ConvTranspose2d(inputChannels: widths[1], outputChannels: widths[2], kernelSize: 4, stride: 2, padding: 1, bias: false, using: &generator),
            BatchNorm2d(featureCount: widths[2]), ReLU(),                                                   // 16×16
            ConvTranspose2d(inputChannels: widths[2], outputChannels: imageChannels, kernelSize: 4, stride: 2, padding: 1, bias: false, using: &generator),
            Tanh(),                                                                                         // 32×32
        ])
        Initialization.dcgan(main, using: &generator)
    }

    public override var children: [(name: String, module: Module)] {
        (labelEmbedding.map { [("label_embedding", $0 as Module)] } ?? []) + [("main", main)]
    }

    /// `[B, latentCount, 1, 1]` noise (and, if conditional, B labels) → `[B, channels, 32, 32]` images.
    public func callAsFunction(_ z: Tensor, labels: [Int]? = nil) -> Tensor {
        require(z.rank == 4 && z.shape[1] == latentCount && z.shape[2] == 1 && z.shape[3] == 1,
                "DCGANGenerator: expected noise [B, \(latentCount), 1, 1], got \(z.shape)")
        guard let labelEmbedding else {
            require(labels == nil, "DCGANGenerator: labels given to an unconditional generator")
            return main(z)
        }
        guard let labels, labels.count == z.shape[0] else {
            fatalError("DCGANGenerator: a conditional generator needs one label per noise vector (\(z.shape[0]))")
        }
        let embedded = labelEmbedding(labels).reshaped([labels.count, classCount, 1, 1])         // [B, classes, 1, 1]
        return main(Tensor.concatenate([z, embedded], alongAxis: 1))
    }
}

/// The DCGAN discriminator, the generator's mirror: 4×4 stride-2 convolutions shrink a 32×32 image
/// to 4×4 (LeakyReLU 0.2, BatchNorm after the first), then a 4×4 convolution gives one logit.
///
/// `batchNorm: false` leaves the normalisation out, as a WGAN-GP critic must: its gradient
/// penalty is per sample, and BatchNorm mixes the samples of a batch. With `classCount`, a learned
/// embedding of the label is added as one more 32×32 input channel.
public final class DCGANDiscriminator: Module, ConfigurableModel {
    public let configuration: Configuration
    public let classCount: Int
    public let labelEmbedding: Embedding?
    public let main: Sequential

    /// `widths` are the channel counts of the three stride-2 layers: the source uses [128, 256, 512].
    public init(widths: [Int] = [128, 256, 512], imageChannels: Int = 1, classCount: Int = 0, batchNorm: Bool = true,
                using generator: inout RandomGenerator) {
        require(widths.count == 3, "DCGANDiscriminator: expected three widths, got \(widths)")
        configuration = Configuration(widths: widths, imageChannels: imageChannels, classCount: classCount, batchNorm: batchNorm)
        self.classCount = classCount
        labelEmbedding = classCount > 0 ? Embedding(count: classCount, dimension: 32 * 32, using: &generator) : nil
        let input = imageChannels + (classCount > 0 ? 1 : 0)
        func normalization(_ channels: Int) -> [any Layer] { batchNorm ? [BatchNorm2d(featureCount: channels)] : [] }
        main = Sequential(
            [Conv2d(inputChannels: input, outputChannels: widths[0], kernelSize: 4, stride: 2, padding: 1, bias: false, using: &generator),
             LeakyReLU(negativeSlope: 0.2),                                                                           // 16×16
             Conv2d(inputChannels: widths[0], outputChannels: widths[1], kernelSize: 4, stride: 2, padding: 1, bias: false, using: &generator)]
            + normalization(widths[1]) + [LeakyReLU(negativeSlope: 0.2),                                               // 8×8
             Conv2d(inputChannels: widths[1], outputChannels: widths[2], kernelSize: 4, stride: 2, padding: 1, bias: false, using: &generator)]
            + normalization(widths[2]) + [LeakyReLU(negativeSlope: 0.2),                                               // 4×4
             Conv2d(inputChannels: widths[2], outputChannels: 1, kernelSize: 4, stride: 1, padding: 0, bias: false, using: &generator)])
        Initialization.dcgan(main, using: &generator)
    }

    public override var children: [(name: String, module: Module)] {
        (labelEmbedding.map { [("label_embedding", $0 as Module)] } ?? []) + [("main", main)]
    }

    /// `[B, channels, 32, 32]` images (and labels, if conditional) → `[B]` logits.
    public func callAsFunction(_ images: Tensor, labels: [Int]? = nil) -> Tensor {
        require(images.rank == 4 && images.shape[2] == 32 && images.shape[3] == 32,
                "DCGANDiscriminator: expected images [B, C, 32, 32], got \(images.shape)")
        let batch = images.shape[0]
        var input = images
        if let labelEmbedding {
            guard let labels, labels.count == batch else {
                fatalError("DCGANDiscriminator: a conditional discriminator needs one label per image (\(batch))")
            }
            input = Tensor.concatenate([images, labelEmbedding(labels).reshaped([batch, 1, 32, 32])], alongAxis: 1)
        }
        return main(input).reshaped([batch])
    }
}

extension DCGANGenerator {
    /// What builds a ``DCGANGenerator``; the defaults are the source's generator.
    public struct Configuration: ModelConfiguration {
        public static let kind = "DCGANGenerator"
        public var latentCount: Int, widths: [Int], imageChannels: Int, classCount: Int

        public init(latentCount: Int = 100, widths: [Int] = [512, 256, 128], imageChannels: Int = 1, classCount: Int = 0) {
            (self.latentCount, self.widths, self.imageChannels, self.classCount) = (latentCount, widths, imageChannels, classCount)
        }

        public func validate() throws {
            try check(latentCount: latentCount)
            try check(widths: widths, upTo: 1024)
            try check(imageChannels: imageChannels)
            try check(classCount: classCount)
        }
    }

    public convenience init(_ configuration: Configuration, using generator: inout RandomGenerator) {
        self.init(latentCount: configuration.latentCount, widths: configuration.widths, imageChannels: configuration.imageChannels,
                  classCount: configuration.classCount, using: &generator)
    }
}

extension DCGANDiscriminator {
    /// What builds a ``DCGANDiscriminator``; the defaults are the source's discriminator.
    public struct Configuration: ModelConfiguration {
        public static let kind = "DCGANDiscriminator"
        public var widths: [Int], imageChannels: Int, classCount: Int, batchNorm: Bool

        public init(widths: [Int] = [128, 256, 512], imageChannels: Int = 1, classCount: Int = 0, batchNorm: Bool = true) {
            (self.widths, self.imageChannels, self.classCount, self.batchNorm) = (widths, imageChannels, classCount, batchNorm)
        }

        public func validate() throws {
            try check(widths: widths, upTo: 1024)
            try check(imageChannels: imageChannels)
            try check(classCount: classCount)
        }
    }

    public convenience init(_ configuration: Configuration, using generator: inout RandomGenerator) {
        self.init(widths: configuration.widths, imageChannels: configuration.imageChannels, classCount: configuration.classCount,
                  batchNorm: configuration.batchNorm, using: &generator)
    }
}
