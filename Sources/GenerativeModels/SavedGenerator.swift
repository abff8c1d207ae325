import Foundation
import NeuralNetworks

/// A trained image generator restored from a chapter's checkpoint: the GAN chapter's generators,
/// the VAE chapter's decoders, the diffusion chapter's U-Net (with its averaged weights).
///
/// The checkpoint says which model it holds and how to build it: the model's kind and
/// configuration in its metadata (see ``NeuralNetworks/Checkpoint``), written when it was saved,
/// so whatever size a chapter trained loads.
public enum SavedGenerator {
    case gan(DCGANGenerator)
    case vae(VariationalAutoencoder)
    case diffusion(TinyUNet)

    /// The kinds of model that draw images, as checkpoints record them.
    static let generatorKinds = [DCGANGenerator.Configuration.kind, VariationalAutoencoder.Configuration.kind, TinyUNet.Configuration.kind]

    /// Restores the generator in the checkpoint at `url`.
    ///
    /// Its configuration is range-checked before the model is built, and the tensors must then fit
    /// the model exactly, so a damaged or hostile file can neither build a huge network nor load
    /// into a network it was not made for.
    /// - Throws: the file's read errors and ``SafeTensorsError`` when its configuration is missing,
    ///   out of range or does not fit its tensors; ``SavedGeneratorError/unrecognized(_:models:)``
    ///   when it describes no image generator, or more than one.
    public static func load(from url: URL) throws -> SavedGenerator {
        let file = try SafeTensors(contentsOf: url)
        let described = Checkpoint.describedModels(in: file)
        let generators = described.filter { generatorKinds.contains($0.kind) }
        guard generators.count == 1, let (name, kind) = generators.first else {
            throw SavedGeneratorError.unrecognized(url, models: described.map { "\($0.name) (\($0.kind))" })
        }
        switch kind {
        case DCGANGenerator.Configuration.kind:
            return .gan(try Checkpoint.restore(DCGANGenerator.self, named: name, from: file, url: url))
        case VariationalAutoencoder.Configuration.kind:
            return .vae(try Checkpoint.restore(VariationalAutoencoder.self, named: name, from: file, url: url))
        default:
            let model = try Checkpoint.restore(TinyUNet.self, named: name, from: file, url: url)
            // Sample with the exponential moving average when the checkpoint kept one.
            let averaged = model.parameters.indices.compactMap { file["ema.\(name).\($0)"] }
            if averaged.count == model.parameters.count {
                for (parameter, average) in zip(model.parameters, averaged) {
                    try SavedGenerator.copy(average, into: parameter, name: "ema.\(name)", url: url)
                }
            }
            return .diffusion(model)
        }
    }

    /// A PyTorch module of the source whose state dict ``load(pytorchStateDict:module:configuration:)`` reads.
    public enum PyTorchModule: String, CaseIterable, Sendable {
        /// The source's DCGAN `Generator`: `main.0.weight`, `main.1.running_mean`, …
        case dcganGenerator = "dcgan-generator"
        /// The source's VAE `Decoder`: `fc.weight`, `conv1.weight`, …
        case vaeDecoder = "vae-decoder"
    }

    /// Restores a generator from a state dict PyTorch wrote (`safetensors.torch.save_file(module.state_dict(), …)`)
    /// for one of the source's modules. Such a file says nothing about the network's sizes, so
    /// they are `configuration`'s (the source's sizes, one image channel, when nil); the file's
    /// tensors must fit them exactly. Integer buffers and half-precision weights are converted.
    /// For the VAE decoder, only the decoder is loaded: the model can draw, not encode.
    /// - Throws: ``SafeTensorsError`` when the file cannot be read, the configuration is out of
    ///   range or its tensors do not fit it.
    public static func load(pytorchStateDict url: URL, module: PyTorchModule, configuration json: String? = nil) throws -> SavedGenerator {
        let file = try SafeTensors(contentsOf: url)
        func fail(_ problem: String) -> SafeTensorsError { SafeTensorsError(file: url.path, problem: problem) }
        func configuration<C: ModelConfiguration>(_: C.Type, default value: C) throws -> C {
            guard let json else { return value }
            do { return try .decoded(from: json, source: "the configuration \(json)") } catch { throw fail("\(error)") }
        }
        let entries = Dictionary(file.tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
        var rng = RandomGenerator(seed: 0)                  // initial weights, all those loaded replaced by the file's
        let restored: SavedGenerator, kind: String, prefix: String
        switch module {
        case .dcganGenerator:
            let model = DCGANGenerator(try configuration(DCGANGenerator.Configuration.self, default: .init()), using: &rng)
            (restored, kind, prefix) = (.gan(model), DCGANGenerator.Configuration.kind, "")
        case .vaeDecoder:
            let model = VariationalAutoencoder(try configuration(VariationalAutoencoder.Configuration.self, default: .init()), using: &rng)
            (restored, kind, prefix) = (.vae(model), VariationalAutoencoder.Configuration.kind, "decoder.")
        }
        do { try restored.network.load(stateDict: entries, under: prefix) } catch {
            throw fail("it is not a state dict of the \(module.rawValue) \(kind) configuration \(restored.network.configuration.json) describes: \(error)")
        }
        restored.network.eval()
        return restored
    }

    private static func copy(_ source: Tensor, into parameter: Tensor, name: String, url: URL) throws {
        guard source.shape == parameter.shape else {
            throw SavedGeneratorError.inconsistent(url, problem: "\(name) has shape \(source.shape) where the model's weight has \(parameter.shape)")
        }
        parameter.assign(source)
    }

    /// The network that draws the images (the VAE's whole model, encoder included).
    private var network: any ConfigurableModel {
        switch self {
        case .gan(let model): return model
        case .vae(let model): return model
        case .diffusion(let model): return model
        }
    }

    /// The network's weights as PyTorch writes a state dict (its own names without a prefix,
    /// `format: pt` metadata), with its kind and configuration in the metadata too: the matching
    /// module of `Scripts/pytorch_models.py` is built from them and loads it with
    /// `load_state_dict(strict=True)`. The diffusion U-Net's are its averaged weights, the ones it samples with.
    public var pytorchStateDict: SafeTensors {
        let configuration = network.configuration
        return SafeTensors(tensors: network.stateDict(),
                           metadata: ["format": "pt", "kind": type(of: configuration).kind, "configuration": configuration.json])
    }

    /// The number of classes the model can be asked for (0 if it cannot).
    public var classCount: Int {
        switch self {
        case .gan(let model): return model.classCount
        case .vae(let model): return model.classCount
        case .diffusion(let model): return model.configuration.classCount
        }
    }

    /// Whether a class-conditional model can also draw without a class: the diffusion U-Net can,
    /// through the "no class" label it was trained with for guidance.
    private var canDrawWithoutClass: Bool {
        if case .diffusion = self { return true }
        return classCount == 0
    }

    /// The steps ``sample(count:labels:sampler:guidance:using:observe:)`` takes by default: the
    /// diffusion model's recorded sampler's, 1 for the GAN and VAE (one pass of the network).
    public var samplingSteps: Int {
        if case .diffusion(let model) = self { return model.configuration.sampler.networkPasses(in: model.diffusion.schedule) }
        return 1
    }

    /// The parameters of the network that draws the images (the VAE's whole model, encoder included).
    public var parameterCount: Int { network.parameterCount }

    /// What the model is, in a few words.
    public var summary: String {
        let kind: String
        switch self {
        case .gan(let model): kind = "DCGAN generator, latent \(model.latentCount)"
        case .vae(let model): kind = "VAE, latent \(model.latentCount)"
        case .diffusion(let model): kind = "TinyUNet denoiser, width \(model.configuration.width)"
        }
        return "\(kind)\(classCount > 0 ? ", \(classCount) classes" : ""), \(parameterCount) parameters"
    }

    /// Draws images in [−1, 1] (`[count, C, H, W]`): from N(0, I) latents for the GAN and VAE, by
    /// `sampler` (nil: the one its configuration names) with guidance scale `guidance` for the
    /// diffusion model. `labels` (one per image) ask a class-conditional model for classes.
    /// - Throws: ``SavedGeneratorError`` when labels are given to a model without classes or are out
    ///   of range, or a sampler or guidance is asked of a model that has none.
    public func sample(count: Int, labels: [Int]? = nil, sampler: GaussianDiffusion.Sampler? = nil, guidance: Double = 0,
                       using generator: inout RandomGenerator, observe: ((GaussianDiffusion.SamplingStep) -> Void)? = nil) throws -> Tensor {
        guard count >= 1 else { throw SavedGeneratorError.invalidRequest("at least one image must be asked for, got \(count)") }
        if let labels {
            guard classCount > 0 else { throw SavedGeneratorError.invalidRequest("this model was trained without classes; it cannot be asked for one") }
            guard labels.count == count, labels.allSatisfy({ (0..<classCount).contains($0) }) else {
                throw SavedGeneratorError.invalidRequest("classes must be 0…\(classCount - 1), one per image")
            }
        } else if classCount > 0, !canDrawWithoutClass {
            throw SavedGeneratorError.invalidRequest("this model draws one class at a time: give a class (0…\(classCount - 1))")
        }
        switch self {
        case .gan(let model):
            return withoutGradients { model(Tensor.randomNormal([count, model.latentCount, 1, 1], using: &generator), labels: labels) }
        case .vae(let model):
            return withoutGradients { model.decode(Tensor.randomNormal([count, model.latentCount], using: &generator), labels: labels) }
        case .diffusion(let model):
            let noClass = classCount
            let predictor: NoisePredictor = { x, steps, labels in
                model(x, timesteps: steps, labels: model.classEmbedding == nil ? nil : labels ?? [Int](repeating: noClass, count: x.shape[0]))
            }
            let diffusion = model.diffusion, sampler = sampler ?? model.configuration.sampler
            if case .ddim(let steps) = sampler, !(1...diffusion.schedule.stepCount).contains(steps) {
                throw SavedGeneratorError.invalidRequest("DDIM takes 1…\(diffusion.schedule.stepCount) steps with this model's schedule, not \(steps)")
            }
            let (channels, size) = (model.configuration.imageChannels, TinyUNet.imageSize)
            return diffusion.sample(from: Tensor.randomNormal([count, channels, size, size], using: &generator), sampler: sampler, labels: labels,
                                    using: &generator, predictor: GaussianDiffusion.guided(predictor, scale: guidance, nullLabel: noClass),
                                    observe: observe)
        }
    }
}

/// Why a checkpoint could not be used to draw images.
public enum SavedGeneratorError: Error, CustomStringConvertible, Equatable {
    /// The file describes no image generator, or more than one (the models it describes are given).
    case unrecognized(URL, models: [String])
    /// The file's tensors do not fit together (say, averaged weights of another shape than the weights).
    case inconsistent(URL, problem: String)
    /// The request does not fit the model.
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .unrecognized(let url, let models) where models.isEmpty:
            return "\(url.path) describes no model in its metadata (model.<name>.kind): it is not a checkpoint of this library, or one written before checkpoints described their models; train it again"
        case .unrecognized(let url, let models):
            return "\(url.path) holds \(models.joined(separator: ", ")), not exactly one of the image generators \(SavedGenerator.generatorKinds.joined(separator: ", "))"
        case .inconsistent(let url, let problem): return "\(url.path) is inconsistent: \(problem)"
        case .invalidRequest(let problem): return problem
        }
    }
}
