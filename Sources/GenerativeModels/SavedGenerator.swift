import Foundation
import NeuralNetworks

/// A trained image generator restored from a chapter's checkpoint: the GAN chapter's generators,
/// the VAE chapter's decoders, the diffusion chapter's U-Net (with its averaged weights).
///
/// The architecture is read from the shapes of the saved weights (a DCGAN's widths, a VAE's latent
/// size, a U-Net's width, and whether each takes a class), so whatever size a chapter trained loads.
public enum SavedGenerator {
    case gan(DCGANGenerator)
    case vae(VariationalAutoencoder)
    case diffusion(TinyUNet)

    /// Restores the generator in the checkpoint at `url`.
    /// - Throws: the file's read errors, or ``SavedGeneratorError/unrecognized(_:names:)`` when it
    ///   holds none of the three models.
    public static func load(from url: URL) throws -> SavedGenerator {
        let file = try SafeTensors(contentsOf: url)
        let tensors = Dictionary(file.tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
        /// The entries under `prefix.`, without it.
        func state(_ prefix: String) -> [String: Tensor] {
            Dictionary(uniqueKeysWithValues: tensors.compactMap { name, tensor in
                name.hasPrefix(prefix + ".") ? (String(name.dropFirst(prefix.count + 1)), tensor) : nil
            })
        }
        var rng = RandomGenerator(seed: 0)                  // initial weights, all overwritten by the file's

        if let input = tensors["unet.conv_in.weight"] {
            let classCount = tensors["unet.class_embedding.weight"].map { $0.shape[0] - 1 } ?? 0
            let model = TinyUNet(imageChannels: input.shape[1], width: input.shape[0], classCount: classCount, using: &rng)
            try model.load(stateDict: state("unet"))
            // Sample with the exponential moving average when the checkpoint kept one.
            let averaged = model.parameters.indices.compactMap { tensors["ema.unet.\($0)"] }
            if averaged.count == model.parameters.count {
                for (parameter, average) in zip(model.parameters, averaged) {
                    try SavedGenerator.copy(average, into: parameter, name: "ema.unet", url: url)
                }
            }
            model.eval()
            return .diffusion(model)
        }
        if let first = tensors["generator.main.0.weight"], let second = tensors["generator.main.3.weight"],
           let third = tensors["generator.main.6.weight"], let last = tensors["generator.main.9.weight"] {
            let classCount = tensors["generator.label_embedding.weight"]?.shape[0] ?? 0
            let model = DCGANGenerator(latentCount: first.shape[0] - classCount, widths: [first.shape[1], second.shape[1], third.shape[1]],
                                       imageChannels: last.shape[1], classCount: classCount, using: &rng)
            try model.load(stateDict: state("generator"))
            model.eval()
            return .gan(model)
        }
        for prefix in ["vae", "cvae"] {
            guard let encoderInput = tensors["\(prefix).encoder.conv1.weight"], let head = tensors["\(prefix).encoder.fc_mu.weight"],
                  let decoderInput = tensors["\(prefix).decoder.fc.weight"], let second = tensors["\(prefix).encoder.conv2.weight"],
                  let third = tensors["\(prefix).encoder.conv3.weight"] else { continue }
            let latentCount = head.shape[0]
            let model = VariationalAutoencoder(imageChannels: encoderInput.shape[1], latentCount: latentCount,
                                               widths: [encoderInput.shape[0], second.shape[0], third.shape[0]],
                                               classCount: decoderInput.shape[1] - latentCount, using: &rng)
            try model.load(stateDict: state(prefix))
            model.eval()
            return .vae(model)
        }
        throw SavedGeneratorError.unrecognized(url, names: file.tensors.prefix(6).map(\.name))
    }

    private static func copy(_ source: Tensor, into parameter: Tensor, name: String, url: URL) throws {
        guard source.shape == parameter.shape else {
            throw SavedGeneratorError.inconsistent(url, problem: "\(name) has shape \(source.shape) where the model's weight has \(parameter.shape)")
        }
        parameter.assign(source)
    }

    /// The number of classes the model can be asked for (0 if it cannot).
    public var classCount: Int {
        switch self {
        case .gan(let model): return model.classCount
        case .vae(let model): return model.classCount
        case .diffusion(let model): return model.classEmbedding.map { $0.weight.shape[0] - 1 } ?? 0
        }
    }

    /// Whether a class-conditional model can also draw without a class: the diffusion U-Net can,
    /// through the "no class" label it was trained with for guidance.
    private var canDrawWithoutClass: Bool {
        if case .diffusion = self { return true }
        return classCount == 0
    }

    /// The parameters of the network that draws the images (the VAE's whole model, encoder included).
    public var parameterCount: Int {
        switch self {
        case .gan(let model): return model.parameterCount
        case .vae(let model): return model.parameterCount
        case .diffusion(let model): return model.parameterCount
        }
    }

    /// What the model is, in a few words.
    public var summary: String {
        let kind: String
        switch self {
        case .gan(let model): kind = "DCGAN generator, latent \(model.latentCount)"
        case .vae(let model): kind = "VAE, latent \(model.latentCount)"
        case .diffusion(let model): kind = "TinyUNet denoiser, width \(model.inputConvolution.weight.shape[0])"
        }
        return "\(kind)\(classCount > 0 ? ", \(classCount) classes" : ""), \(parameterCount) parameters"
    }

    /// Draws images in [−1, 1] (`[count, C, H, W]`): from N(0, I) latents for the GAN and VAE, by
    /// `sampler` with guidance scale `guidance` for the diffusion model. `labels` (one per image)
    /// ask a class-conditional model for classes.
    /// - Throws: ``SavedGeneratorError`` when labels are given to a model without classes or are out
    ///   of range, or a sampler or guidance is asked of a model that has none.
    public func sample(count: Int, labels: [Int]? = nil, sampler: GaussianDiffusion.Sampler = .ddim(steps: 50), guidance: Double = 0,
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
            let diffusion = GaussianDiffusion(schedule: .linear())
            let channels = model.outputConvolution.weight.shape[0]
            return diffusion.sample(from: Tensor.randomNormal([count, channels, 28, 28], using: &generator), sampler: sampler, labels: labels,
                                    using: &generator, predictor: GaussianDiffusion.guided(predictor, scale: guidance, nullLabel: noClass),
                                    observe: observe)
        }
    }
}

/// Why a checkpoint could not be used to draw images.
public enum SavedGeneratorError: Error, CustomStringConvertible, Equatable {
    /// The file holds no generator this library knows (its first tensor names are given).
    case unrecognized(URL, names: [String])
    /// The file's tensors do not fit together (say, averaged weights of another shape than the weights).
    case inconsistent(URL, problem: String)
    /// The request does not fit the model.
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .unrecognized(let url, let names):
            return "\(url.path) holds no GAN generator, VAE or diffusion U-Net from the chapters (it has \(names.joined(separator: ", ")))"
        case .inconsistent(let url, let problem): return "\(url.path) is inconsistent: \(problem)"
        case .invalidRequest(let problem): return problem
        }
    }
}
