import ArgumentParser
import Datasets
import Foundation
import GenerativeModels
import ImageIO
import Notebook
import TensorCore

/// Draws images from a checkpoint any chapter saved, without re-running the chapter.
@main
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Sample",
        abstract: "Draws images from a trained generator saved by a chapter.",
        discussion: """
            Works with the GAN chapter's dcgan.safetensors, wgan-gp.safetensors and cgan.safetensors, the \
            VAE chapter's vae.safetensors, vae-2d.safetensors and cvae.safetensors, the diffusion \
            chapter's diffusion.safetensors, and the flow chapter's flow.safetensors and latent-flow.safetensors \
            (these three sampled with their averaged weights). The model is built from the configuration the \
            checkpoint records. Class-conditional models need --class or --every-class; the diffusion and flow \
            models also draw without a class. --sampler, --steps and --guidance apply to the diffusion model \
            (ddpm, ddim) and the flow models (euler, heun) only; by default they draw as their checkpoint says. \
            --export-state-dict writes the network's weights under PyTorch's names, for load_state_dict(strict=True) \
            (Scripts/pytorch_models.py defines the matching PyTorch classes). --pytorch-module reads a state dict \
            PyTorch wrote for the source's DCGAN generator or VAE decoder.
            """)

    @Option(help: ArgumentHelp("A checkpoint written by a chapter (.safetensors).", valueName: "path"))
    var checkpoint: String

    @Option(help: "How many images to draw.")
    var count = 64

    @Option(help: ArgumentHelp("Where to write the grid of images (PNG).", valueName: "path"))
    var out = "samples.png"

    @Option(help: ArgumentHelp("Also write each image as a PNG of its own into this folder (for Evaluate --samples).", valueName: "folder"))
    var images: String?

    @Option(name: .customLong("class"), help: ArgumentHelp("Ask a class-conditional model for one class: 0…9 or a name such as sneaker.", valueName: "class"))
    var requestedClass: String?

    @Flag(help: "Draw count/10 images of every class, one row per class.")
    var everyClass = false

    @Option(help: ArgumentHelp("Sampler: for a diffusion model ddim (deterministic, few steps) or ddpm (every step of the schedule); "
                               + "for a flow model euler or heun (second order, two network passes a step); "
                               + "default: the one the checkpoint names.", valueName: "ddim|ddpm|euler|heun"))
    var sampler: String?

    @Option(help: "DDIM, Euler or Heun steps (DDIM: 1 to the schedule's length; default: the checkpoint's sampler's).")
    var steps: Int?

    @Option(help: ArgumentHelp("Classifier-free guidance scale w ≥ 0 for a class-conditional diffusion model (default 0).", valueName: "w"))
    var guidance: Double?

    @Option(help: ArgumentHelp("Read --checkpoint as a state dict PyTorch wrote for the source's DCGAN generator or VAE decoder.",
                               valueName: "dcgan-generator|vae-decoder"))
    var pytorchModule: String?

    @Option(help: ArgumentHelp("With --pytorch-module: the network's sizes as JSON, such as {\"latentCount\":100,\"widths\":[512,256,128],\"imageChannels\":3,\"classCount\":0} (default: the source's sizes, one channel).",
                               valueName: "json"))
    var configuration: String?

    @Option(help: ArgumentHelp("Write the network's weights as a PyTorch state dict (.safetensors) instead of drawing.", valueName: "path"))
    var exportStateDict: String?

    @Option(help: "Images per row of the grid (default: up to 16).")
    var columns: Int?

    @Option(help: "Seed of the random numbers: the same seed draws the same images.")
    var seed: UInt64 = 0

    @Option(help: "Threads for the numeric kernels (default: every core).")
    var threads: Int?

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1, got \(count)") }
        if let sampler, !Self.samplerNames.contains(sampler.lowercased()) {
            throw ValidationError("--sampler must be \(Self.samplerNames.joined(separator: ", ")), got \(sampler)")
        }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1, got \(steps)") }
        if steps != nil, sampler?.lowercased() == "ddpm" { throw ValidationError("--steps applies to ddim, euler and heun; ddpm always takes every step of the schedule") }
        if let guidance, !(guidance >= 0 && guidance.isFinite) { throw ValidationError("--guidance must be a number ≥ 0, got \(guidance)") }
        if let columns, columns < 1 { throw ValidationError("--columns must be at least 1, got \(columns)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if everyClass && requestedClass != nil { throw ValidationError("give --class or --every-class, not both") }
        if everyClass && count < 10 { throw ValidationError("--every-class needs --count of at least 10, got \(count)") }
        if let requestedClass { _ = try Self.classIndex(requestedClass) }
        if let pytorchModule, SavedGenerator.PyTorchModule(rawValue: pytorchModule) == nil {
            throw ValidationError("--pytorch-module must be \(SavedGenerator.PyTorchModule.allCases.map(\.rawValue).joined(separator: " or ")), got \(pytorchModule)")
        }
        if configuration != nil && pytorchModule == nil {
            throw ValidationError("--configuration describes a PyTorch state dict: give --pytorch-module too (a checkpoint records its own)")
        }
    }

    static let samplerNames = ["ddim", "ddpm", "euler", "heun"]

    /// The sampler `--sampler` and `--steps` ask for, filled in from the model's own `recorded` one.
    static func sampler(named name: String?, steps: Int?, recorded: SavedGenerator.Sampler) throws -> SavedGenerator.Sampler {
        let (recordedName, recordedSteps): (String, Int?)
        switch recorded {
        case .ddpm: (recordedName, recordedSteps) = ("ddpm", nil)
        case .ddim(let count): (recordedName, recordedSteps) = ("ddim", count)
        case .euler(let count): (recordedName, recordedSteps) = ("euler", count)
        case .heun(let count): (recordedName, recordedSteps) = ("heun", count)
        }
        // Steps alone keep the model's kind of sampler; DDPM has no step count, so for it they mean DDIM.
        let name = name?.lowercased() ?? (recordedName == "ddpm" && steps != nil ? "ddim" : recordedName)
        if name == "ddpm" { return .ddpm }
        guard let count = steps ?? recordedSteps else {
            throw ValidationError("--sampler \(name) needs --steps: this model's own sampler is \(recorded)")
        }
        switch name {
        case "ddim": return .ddim(steps: count)
        case "euler": return .euler(steps: count)
        default: return .heun(steps: count)
        }
    }

    /// A class number 0…9 or a Fashion-MNIST class name (case and spaces/hyphens ignored).
    static func classIndex(_ text: String) throws -> Int {
        if let number = Int(text) {
            guard FashionMNIST.classNames.indices.contains(number) else { throw ValidationError("--class must be 0…9, got \(number)") }
            return number
        }
        let simplified = { (name: String) in name.lowercased().filter { $0.isLetter } }
        guard let index = FashionMNIST.classNames.firstIndex(where: { simplified($0) == simplified(text) }) else {
            throw ValidationError("unknown class \"\(text)\"; the classes are \(FashionMNIST.classNames.joined(separator: ", "))")
        }
        return index
    }

    func run() throws {
        if let threads { Parallel.threadCount = threads }
        let model: SavedGenerator
        do {
            let url = URL(fileURLWithPath: checkpoint)
            model = try pytorchModule.flatMap(SavedGenerator.PyTorchModule.init(rawValue:))
                .map { try SavedGenerator.load(pytorchStateDict: url, module: $0, configuration: configuration) }
                ?? SavedGenerator.load(from: url)
        } catch {
            throw SampleError(problem: "cannot use \(checkpoint): \(error)")
        }
        if let exportStateDict {
            let state = model.pytorchStateDict
            try state.write(to: URL(fileURLWithPath: exportStateDict))
            print("wrote the \(state.tensors.count) weights and buffers of the \(model.summary) to \(exportStateDict)")
            return
        }
        FileHandle.standardError.write(Data("\(checkpoint): \(model.summary)\n".utf8))
        guard let recorded = model.defaultSampler else {
            if sampler != nil || steps != nil || guidance != nil {
                throw ValidationError("--sampler, --steps and --guidance apply to the diffusion and flow models; \(checkpoint) holds a \(model.summary)")
            }
            return try draw(from: model, progress: nil)
        }
        let chosen = try Self.sampler(named: sampler, steps: steps, recorded: recorded)
        try draw(from: model, sampler: chosen, progress: ProgressBar(label: "\(chosen), \(drawnCount) images",
                                                                    total: model.samplingSteps(with: chosen)))
    }

    private var drawnCount: Int { everyClass ? (count / 10) * 10 : count }

    /// Draws the images and writes them as one PNG grid, showing `progress` for each network pass.
    private func draw(from model: SavedGenerator, sampler: SavedGenerator.Sampler? = nil, progress: ProgressBar?) throws {
        let drawn = drawnCount
        let labels: [Int]? = everyClass ? (0..<10).flatMap { [Int](repeating: $0, count: drawn / 10) }
            : try requestedClass.map { [Int](repeating: try Self.classIndex($0), count: drawn) }
        var rng = RandomGenerator(seed: seed)
        let samples: Tensor
        do {
            samples = try model.sample(count: drawn, labels: labels, sampler: sampler, guidance: guidance ?? 0, using: &rng) { _ in progress?.advance() }
        } catch let error as SavedGeneratorError {
            throw SampleError(problem: error.description)
        }
        progress?.finish()

        let rowLength = columns ?? (everyClass ? drawn / 10 : min(16, drawn))
        let outURL = URL(fileURLWithPath: out)
        try PNG.write(Bitmap(grid: samples, range: .minusOneToOne, columns: rowLength, scale: 2), to: outURL)
        print("wrote \(drawn) images to \(outURL.path)")
        if let images {
            let folder = URL(fileURLWithPath: images, isDirectory: true)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for index in 0..<drawn {
                try PNG.write(samples.slice(index..<(index + 1), alongAxis: 0).reshaped(Array(samples.shape.dropFirst())), range: .minusOneToOne,
                              to: folder.appendingPathComponent(String(format: "sample-%05d.png", index)))
            }
            print("wrote \(drawn) PNG files to \(folder.path)")
        }
    }
}

/// A failure after the arguments were accepted: the checkpoint or the request does not fit.
struct SampleError: Error, CustomStringConvertible {
    let problem: String
    var description: String { problem }
}
