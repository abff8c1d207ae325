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
    ///
    /// The sizes read from the weights are checked against one another before a model is built,
    /// so that the model's largest layers are tensors present in the file: a damaged or hostile
    /// file cannot make this build a network larger than itself.
    /// - Throws: the file's read errors, ``SavedGeneratorError/unrecognized(_:names:)`` when it
    ///   holds none of the three models, or ``SavedGeneratorError/inconsistent(_:problem:)`` when
    ///   its tensors do not describe one model.
    public static func load(from url: URL) throws -> SavedGenerator {
        let file = try SafeTensors(contentsOf: url)
        let tensors = Dictionary(file.tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
        /// The entries under `prefix.`, without it.
        func state(_ prefix: String) -> [String: Tensor] {
            Dictionary(uniqueKeysWithValues: tensors.compactMap { name, tensor in
                name.hasPrefix(prefix + ".") ? (String(name.dropFirst(prefix.count + 1)), tensor) : nil
            })
        }
        /// The shape of `name`, which must have `rank` axes, none of them empty.
        func shape(_ name: String, rank: Int) throws -> [Int] {
            guard let tensor = tensors[name] else { throw SavedGeneratorError.inconsistent(url, problem: "\(name) is missing") }
            guard tensor.rank == rank, tensor.shape.allSatisfy({ $0 > 0 }) else {
                throw SavedGeneratorError.inconsistent(url, problem: "\(name) has shape \(tensor.shape); expected \(rank) sizes of at least 1")
            }
            return tensor.shape
        }
        /// Refuses the file unless `condition` holds, saying what `problem` it found.
        func check(_ condition: Bool, _ problem: @autoclosure () -> String) throws {
            guard condition else { throw SavedGeneratorError.inconsistent(url, problem: problem()) }
        }
        var rng = RandomGenerator(seed: 0)                  // initial weights, all overwritten by the file's

        if tensors["unet.conv_in.weight"] != nil {
            let input = try shape("unet.conv_in.weight", rank: 4)                              // [w, C, 3, 3]
            let width = input[0]
            try check(width % 8 == 0, "unet.conv_in.weight has \(width) output channels; a TinyUNet's width is a multiple of 8")
            let middle = try shape("unet.rb_m2.conv2.weight", rank: 4)                        // [4w, 4w, 3, 3], the largest
            try check(middle == [4 * width, 4 * width, 3, 3], "unet.rb_m2.conv2.weight has shape \(middle); width \(width) needs [\(4 * width), \(4 * width), 3, 3]")
            var classCount = 0
            if tensors["unet.class_embedding.weight"] != nil {
                let embedding = try shape("unet.class_embedding.weight", rank: 2)             // [classes + 1, 128]
                try check(embedding[0] >= 2, "unet.class_embedding.weight has \(embedding[0]) rows; it needs the classes and a \"no class\" row")
                classCount = embedding[0] - 1
            }
            let model = TinyUNet(imageChannels: input[1], width: width, classCount: classCount, using: &rng)
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
        if ["generator.main.0.weight", "generator.main.3.weight", "generator.main.6.weight", "generator.main.9.weight"].allSatisfy({ tensors[$0] != nil }) {
            let layers = try [0, 3, 6, 9].map { try shape("generator.main.\($0).weight", rank: 4) }   // [in, out, 4, 4]
            for (a, b) in zip(layers, layers.dropFirst()) {
                try check(b[0] == a[1], "the generator's transposed convolutions do not chain: \(a) then \(b)")
            }
            var classCount = 0
            if tensors["generator.label_embedding.weight"] != nil {
                let embedding = try shape("generator.label_embedding.weight", rank: 2)        // [classes, classes]
                try check(embedding[0] == embedding[1], "generator.label_embedding.weight has shape \(embedding); expected [classes, classes]")
                classCount = embedding[0]
            }
            try check(layers[0][0] > classCount, "generator.main.0.weight takes \(layers[0][0]) channels, no more than its \(classCount) classes: no latent")
            let model = DCGANGenerator(latentCount: layers[0][0] - classCount, widths: [layers[0][1], layers[1][1], layers[2][1]],
                                       imageChannels: layers[3][1], classCount: classCount, using: &rng)
            try model.load(stateDict: state("generator"))
            model.eval()
            return .gan(model)
        }
        for prefix in ["vae", "cvae"] {
            let names = ["encoder.conv1", "encoder.conv2", "encoder.conv3", "encoder.fc_mu", "decoder.fc"].map { "\(prefix).\($0).weight" }
            guard names.allSatisfy({ tensors[$0] != nil }) else { continue }
            let convolutions = try names.prefix(3).map { try shape($0, rank: 4) }             // [out, in, 4, 4]
            for (a, b) in zip(convolutions, convolutions.dropFirst()) {
                try check(b[1] == a[0], "\(prefix)'s encoder convolutions do not chain: \(a) then \(b)")
            }
            let widths = convolutions.map { $0[0] }
            let features = widths[2] * 16                                                   // a 4×4 map of widths[2] channels
            let head = try shape(names[3], rank: 2)                                           // [latent, features + classes]
            let decoderInput = try shape(names[4], rank: 2)                                   // [features, latent + classes]
            let (latentCount, classCount) = (head[0], head[1] - features)
            try check(classCount >= 0 && decoderInput == [features, latentCount + classCount],
                      "\(names[3]) has shape \(head) and \(names[4]) \(decoderInput); encoder width \(widths[2]) does not fit them")
            let model = VariationalAutoencoder(imageChannels: convolutions[0][1], latentCount: latentCount, widths: widths,
                                               classCount: classCount, using: &rng)
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
