import NeuralNetworks

/// The source's variational autoencoder (§4.2): an encoder of three 4×4 stride-2 convolutions
/// (32, 64, 128 channels) and two linear heads for the mean and log-variance of q(z | x), and a
/// decoder that mirrors it with transposed convolutions and ends in Tanh.
///
/// With `classCount`, it is class-conditional: a one-hot label joins the encoder's features before
/// its heads and the latent vector before the decoder, so q(z | x, y) and p(x | z, y).
public final class VariationalAutoencoder: Module, ConfigurableModel {
    public let configuration: Configuration
    public let latentCount: Int, classCount: Int
    public let conv1: Conv2d, conv2: Conv2d, conv3: Conv2d
    public let meanHead: Linear, logVarianceHead: Linear
    public let decoderInput: Linear
    public let deconv1: ConvTranspose2d, deconv2: ConvTranspose2d, deconv3: ConvTranspose2d

    /// `widths` are the encoder's channel counts (the decoder uses them in reverse): the source uses [32, 64, 128].
    public init(imageChannels: Int = 1, latentCount: Int = 32, widths: [Int] = [32, 64, 128], classCount: Int = 0,
                using generator: inout RandomGenerator) {
        require(widths.count == 3, "VariationalAutoencoder: expected three widths, got \(widths)")
        configuration = Configuration(imageChannels: imageChannels, latentCount: latentCount, widths: widths, classCount: classCount)
        self.latentCount = latentCount
        self.classCount = classCount
        let features = widths[2] * 4 * 4
        conv1 = Conv2d(inputChannels: imageChannels, outputChannels: widths[0], kernelSize: 4, stride: 2, padding: 1, using: &generator)
        conv2 = Conv2d(inputChannels: widths[0], outputChannels: widths[1], kernelSize: 4, stride: 2, padding: 1, using: &generator)
        conv3 = Conv2d(inputChannels: widths[1], outputChannels: widths[2], kernelSize: 4, stride: 2, padding: 1, using: &generator)
        meanHead = Linear(inputCount: features + classCount, outputCount: latentCount, using: &generator)
        logVarianceHead = Linear(inputCount: features + classCount, outputCount: latentCount, using: &generator)
        decoderInput = Linear(inputCount: latentCount + classCount, outputCount: features, using: &generator)
        deconv1 = ConvTranspose2d(inputChannels: widths[2], outputChannels: widths[1], kernelSize: 4, stride: 2, padding: 1, using: &generator)
        deconv2 = ConvTranspose2d(inputChannels: widths[1], outputChannels: widths[0], kernelSize: 4, stride: 2, padding: 1, using: &generator)
        deconv3 = ConvTranspose2d(inputChannels: widths[0], outputChannels: imageChannels, kernelSize: 4, stride: 2, padding: 1, using: &generator)
    }

    /// PyTorch's names from the source: `encoder.conv1`, `encoder.fc_mu`, `decoder.fc`, `decoder.conv1`, …
    public override var children: [(name: String, module: Module)] {
        [("encoder.conv1", conv1), ("encoder.conv2", conv2), ("encoder.conv3", conv3),
         ("encoder.fc_mu", meanHead), ("encoder.fc_logvar", logVarianceHead),
         ("decoder.fc", decoderInput), ("decoder.conv1", deconv1), ("decoder.conv2", deconv2), ("decoder.conv3", deconv3)]
    }

    private func withLabels(_ features: Tensor, _ labels: [Int]?) -> Tensor {
        guard classCount > 0 else {
            require(labels == nil, "VariationalAutoencoder: labels given to an unconditional model")
            return features
        }
        guard let labels, labels.count == features.shape[0] else {
            fatalError("VariationalAutoencoder: a conditional model needs one label per row (\(features.shape[0]))")
        }
        return Tensor.concatenate([features, Tensor.oneHot(labels, classes: classCount, dtype: features.dtype)], alongAxis: 1)
    }

    /// The mean and log-variance of q(z | x): `[B, C, 32, 32]` → two `[B, latentCount]`.
    public func encode(_ x: Tensor, labels: [Int]? = nil) -> (mean: Tensor, logVariance: Tensor) {
        require(x.rank == 4 && x.shape[2] == 32 && x.shape[3] == 32, "VariationalAutoencoder: expected images [B, C, 32, 32], got \(x.shape)")
        let h = conv3(conv2(conv1(x).relu()).relu()).relu().flattened(from: 1)          // [B, 128·4·4]
        let features = withLabels(h, labels)
        return (meanHead(features), logVarianceHead(features))
    }

    /// The decoder's mean image x̂ = μ_θ(z): `[B, latentCount]` → `[B, C, 32, 32]` in (−1, 1).
    public func decode(_ z: Tensor, labels: [Int]? = nil) -> Tensor {
        let h = decoderInput(withLabels(z, labels))                                       // [B, 128·4·4]
        let grid = h.reshaped([z.shape[0], deconv1.weight.shape[0], 4, 4])                // [B, 128, 4, 4]
        return deconv3(deconv2(deconv1(grid).relu()).relu()).tanh()
    }

    /// z = μ + σ ⊙ ε with ε ~ N(0, I): the reparameterisation trick.
    public static func reparameterize(mean: Tensor, logVariance: Tensor, using generator: inout RandomGenerator) -> Tensor {
        mean + (logVariance * 0.5).exp() * Tensor.randomNormal(mean.shape, dtype: mean.dtype, using: &generator)
    }
}

extension VariationalAutoencoder {
    /// What builds a ``VariationalAutoencoder``; the defaults are the source's, with a 32-number latent.
    public struct Configuration: ModelConfiguration {
        public static let kind = "VariationalAutoencoder"
        public var imageChannels: Int, latentCount: Int, widths: [Int], classCount: Int

        public init(imageChannels: Int = 1, latentCount: Int = 32, widths: [Int] = [32, 64, 128], classCount: Int = 0) {
            (self.imageChannels, self.latentCount, self.widths, self.classCount) = (imageChannels, latentCount, widths, classCount)
        }

        public func validate() throws {
            try check(imageChannels: imageChannels)
            try check(latentCount: latentCount)
            try check(widths: widths, upTo: 512)
            try check(classCount: classCount)
        }
    }

    public convenience init(_ configuration: Configuration, using generator: inout RandomGenerator) {
        self.init(imageChannels: configuration.imageChannels, latentCount: configuration.latentCount, widths: configuration.widths,
                  classCount: configuration.classCount, using: &generator)
    }
}
