import Foundation
import NeuralNetworks

/// A trained image generator restored from a chapter's checkpoint: the GAN chapter's generators,
/// the VAE chapter's decoders, the diffusion chapter's U-Net, the flow chapter's U-Net and latent
/// flow (the last three with their averaged weights).
///
/// The checkpoint says which model it holds and how to build it: the model's kind and
/// configuration in its metadata (see ``NeuralNetworks/Checkpoint``), written when it was saved,
/// so whatever size a chapter trained loads.
public enum SavedGenerator {
    case gan(DCGANGenerator)
    case vae(VariationalAutoencoder)
    case diffusion(TinyUNet)
    case flow(FlowUNet)
    case latentFlow(LatentFlow)

    /// The kinds of model that draw images, as checkpoints record them.
    static let generatorKinds = [DCGANGenerator.Configuration.kind, VariationalAutoencoder.Configuration.kind, TinyUNet.Configuration.kind,
                                 FlowUNet.Configuration.kind, LatentFlow.Configuration.kind]

    /// How an iterative model draws: the diffusion model by DDPM or DDIM, the flow models by
    /// integrating their ODE with Euler or Heun steps.
    public enum Sampler: Equatable, Sendable, CustomStringConvertible {
        case ddpm, ddim(steps: Int), euler(steps: Int), heun(steps: Int)

        public init(_ sampler: GaussianDiffusion.Sampler) {
            switch sampler {
            case .ddpm: self = .ddpm
            case .ddim(let steps): self = .ddim(steps: steps)
            }
        }

        public init(_ sampler: FlowMatching.Sampler) {
            switch sampler {
            case .euler(let steps): self = .euler(steps: steps)
            case .heun(let steps): self = .heun(steps: steps)
            }
        }

        /// The diffusion sampler it names, if it names one.
        public var diffusion: GaussianDiffusion.Sampler? {
            switch self {
            case .ddpm: return .ddpm
            case .ddim(let steps): return .ddim(steps: steps)
            case .euler, .heun: return nil
            }
        }

        /// The flow sampler it names, if it names one.
        public var flow: FlowMatching.Sampler? {
            switch self {
            case .euler(let steps): return .euler(steps: steps)
            case .heun(let steps): return .heun(steps: steps)
            case .ddpm, .ddim: return nil
            }
        }

        public var description: String { diffusion?.description ?? flow!.description }
    }

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
        /// The model, with the exponential moving average of its weights when the checkpoint kept one.
        func averaged<Model: ConfigurableModel>(_ type: Model.Type) throws -> Model {
            let model = try Checkpoint.restore(type, named: name, from: file, url: url)
            let averages = model.parameters.indices.compactMap { file["ema.\(name).\($0)"] }
            if averages.count == model.parameters.count {
                for (parameter, average) in zip(model.parameters, averages) {
                    try SavedGenerator.copy(average, into: parameter, name: "ema.\(name)", url: url)
                }
            }
            return model
        }
        switch kind {
        case DCGANGenerator.Configuration.kind:
            return .gan(try averaged(DCGANGenerator.self))
        case VariationalAutoencoder.Configuration.kind:
            return .vae(try Checkpoint.restore(VariationalAutoencoder.self, named: name, from: file, url: url))
        case TinyUNet.Configuration.kind: return .diffusion(try averaged(TinyUNet.self))
        case FlowUNet.Configuration.kind: return .flow(try averaged(FlowUNet.self))
        default: return .latentFlow(try averaged(LatentFlow.self))
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
        case .flow(let model): return model
        case .latentFlow(let model): return model
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
        case .flow(let model): return model.configuration.classCount
        case .latentFlow(let model): return model.configuration.flow.classCount
        }
    }

    /// Whether a class-conditional model can also draw without a class: the diffusion and flow
    /// models can, through the "no class" label they were trained with for guidance.
    private var canDrawWithoutClass: Bool {
        switch self {
        case .gan, .vae: return classCount == 0
        case .diffusion, .flow, .latentFlow: return true
        }
    }

    /// The sampler the model's configuration names, or nil for the GAN and VAE (one network pass).
    public var defaultSampler: Sampler? {
        switch self {
        case .gan, .vae: return nil
        case .diffusion(let model): return Sampler(model.configuration.sampler)
        case .flow(let model): return Sampler(model.configuration.sampler)
        case .latentFlow(let model): return Sampler(model.configuration.flow.sampler)
        }
    }

    /// The steps ``sample(count:labels:sampler:guidance:using:observe:)`` takes by default: its own
    /// sampler's, 1 for the GAN and VAE (one pass of the network).
    public var samplingSteps: Int { samplingSteps(with: defaultSampler) }

    /// The steps ``sample(count:labels:sampler:guidance:using:observe:)`` takes with `sampler`.
    public func samplingSteps(with sampler: Sampler?) -> Int {
        switch sampler {
        case .ddpm?:
            guard case .diffusion(let model) = self else { return 1 }
            return model.diffusion.schedule.stepCount
        case .ddim(let steps)?, .euler(let steps)?, .heun(let steps)?: return steps
        case nil: return 1
        }
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
        case .flow(let model): kind = "TinyUNet velocity network (flow matching), width \(model.configuration.width)"
        case .latentFlow(let model):
            kind = "latent flow: a \(model.configuration.flow.width)-wide velocity MLP over a VAE's \(model.autoencoder.latentCount) latent numbers"
        }
        return "\(kind)\(classCount > 0 ? ", \(classCount) classes" : ""), \(parameterCount) parameters"
    }

    /// Draws images in [−1, 1] (`[count, C, H, W]`): from N(0, I) latents for the GAN and VAE, by
    /// `sampler` (nil: the one its configuration names) with guidance scale `guidance` for the
    /// diffusion and flow models. `labels` (one per image) ask a class-conditional model for
    /// classes. `observe` sees the number of every step taken, from 1.
    /// - Throws: ``SavedGeneratorError`` when labels are given to a model without classes or are out
    ///   of range, or a sampler or guidance is asked of a model that has none or cannot use it.
    public func sample(count: Int, labels: [Int]? = nil, sampler: Sampler? = nil, guidance: Double = 0,
                       using generator: inout RandomGenerator, observe: ((_ step: Int) -> Void)? = nil) throws -> Tensor {
        guard count >= 1 else { throw SavedGeneratorError.invalidRequest("at least one image must be asked for, got \(count)") }
        if let labels {
            guard classCount > 0 else { throw SavedGeneratorError.invalidRequest("this model was trained without classes; it cannot be asked for one") }
            guard labels.count == count, labels.allSatisfy({ (0..<classCount).contains($0) }) else {
                throw SavedGeneratorError.invalidRequest("classes must be 0…\(classCount - 1), one per image")
            }
        } else if classCount > 0, !canDrawWithoutClass {
            throw SavedGeneratorError.invalidRequest("this model draws one class at a time: give a class (0…\(classCount - 1))")
        }
        if sampler != nil || guidance != 0, defaultSampler == nil {
            throw SavedGeneratorError.invalidRequest("a sampler and guidance apply to the diffusion and flow models; this is a \(summary)")
        }
        /// The flow sampler to use: the one asked for, else the model's own; a diffusion sampler is refused.
        func flowSampler(_ recorded: FlowMatching.Sampler) throws -> FlowMatching.Sampler {
            guard let sampler else { return recorded }
            guard let chosen = sampler.flow else {
                throw SavedGeneratorError.invalidRequest("a flow model is drawn with the Euler or Heun sampler, not \(sampler)")
            }
            if let problem = chosen.problem { throw SavedGeneratorError.invalidRequest(problem) }
            return chosen
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
            let recorded = model.configuration.sampler
            guard let sampler = sampler == nil ? recorded : sampler?.diffusion else {
                throw SavedGeneratorError.invalidRequest("a diffusion model is drawn with the DDPM or DDIM sampler, not \(sampler!)")
            }
            let diffusion = model.diffusion
            if case .ddim(let steps) = sampler, !(1...diffusion.schedule.stepCount).contains(steps) {
                throw SavedGeneratorError.invalidRequest("DDIM takes 1…\(diffusion.schedule.stepCount) steps with this model's schedule, not \(steps)")
            }
            let (channels, size) = (model.configuration.imageChannels, TinyUNet.imageSize)
            return diffusion.sample(from: Tensor.randomNormal([count, channels, size, size], using: &generator), sampler: sampler, labels: labels,
                                    using: &generator, predictor: GaussianDiffusion.guided(predictor, scale: guidance, nullLabel: noClass),
                                    observe: observe.map { observe in { observe($0.index) } })
        case .flow(let model):
            let sampler = try flowSampler(model.configuration.sampler)
            let (channels, size) = (model.configuration.imageChannels, TinyUNet.imageSize)
            return FlowMatching.sample(from: Tensor.randomNormal([count, channels, size, size], using: &generator), sampler: sampler,
                                       labels: labels, predictor: FlowMatching.guided(model.predictor, scale: guidance, nullLabel: classCount),
                                       observe: observe.map { observe in { observe($0.index) } })
        case .latentFlow(let model):
            let sampler = try flowSampler(model.configuration.flow.sampler)
            let codes = FlowMatching.sample(
                from: Tensor.randomNormal([count, model.autoencoder.latentCount], using: &generator), sampler: sampler, labels: labels,
                predictor: FlowMatching.guided(model.flow.predictor, scale: guidance, nullLabel: classCount),
                observe: observe.map { observe in { observe($0.index) } })
            return model.decode(codes)
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
