import NeuralNetworks

/// A flow model in an autoencoder's latent space: a ``VelocityMLP`` carries noise to latent codes,
/// and the VAE's decoder turns the codes into images. The codes are divided by `latentScale` (the
/// spread of the encoder's means over the data) on the way in, so the flow sees numbers of about
/// the noise's size, and multiplied by it again before decoding — as latent diffusion models scale
/// their codes. Its PyTorch twin holds the two networks as `flow` and `autoencoder`.
public final class LatentFlow: Module, ConfigurableModel {
    public let configuration: Configuration
    public let autoencoder: VariationalAutoencoder
    public let flow: VelocityMLP

    /// The flow model over `autoencoder`'s codes; `flow` must take vectors of its latent size.
    public init(autoencoder: VariationalAutoencoder, flow: VelocityMLP, latentScale: Double) {
        require(flow.configuration.dimension == autoencoder.latentCount && autoencoder.classCount == 0 && latentScale > 0,
                "LatentFlow: needs an unconditional autoencoder with \(flow.configuration.dimension) latent numbers and a scale > 0")
        configuration = Configuration(autoencoder: autoencoder.configuration, flow: flow.configuration, latentScale: latentScale)
        (self.autoencoder, self.flow) = (autoencoder, flow)
    }

    public override var children: [(name: String, module: Module)] { [("autoencoder", autoencoder), ("flow", flow)] }

    /// Images decoded from codes the flow drew.
    public func decode(_ codes: Tensor) -> Tensor {
        withoutGradients { autoencoder.decode(codes * configuration.latentScale) }
    }
}

extension LatentFlow {
    /// What builds a ``LatentFlow``: the autoencoder's, the flow network's, and the codes' scale.
    public struct Configuration: ModelConfiguration {
        public static let kind = "LatentFlow"
        public var autoencoder: VariationalAutoencoder.Configuration, flow: VelocityMLP.Configuration
        public var latentScale: Double

        public init(autoencoder: VariationalAutoencoder.Configuration, flow: VelocityMLP.Configuration, latentScale: Double) {
            (self.autoencoder, self.flow, self.latentScale) = (autoencoder, flow, latentScale)
        }

        public func validate() throws {
            try autoencoder.validate()
            try flow.validate()
            try check(flow.dimension == autoencoder.latentCount,
                      "the flow takes \(flow.dimension) numbers but the autoencoder's codes have \(autoencoder.latentCount)")
            try check(autoencoder.classCount == 0, "the autoencoder must be unconditional (the flow network takes the classes)")
            try check(latentScale > 0 && latentScale.isFinite && latentScale < 1e6, "latentScale must be a positive number, got \(latentScale)")
        }
    }

    public convenience init(_ configuration: Configuration, using generator: inout RandomGenerator) {
        self.init(autoencoder: VariationalAutoencoder(configuration.autoencoder, using: &generator),
                  flow: VelocityMLP(configuration.flow, using: &generator), latentScale: configuration.latentScale)
    }
}
