import Foundation
import Testing
import GenerativeModels
import NeuralNetworks

/// Checkpoints of every model family load back, built from the configuration they record.
@Suite struct SavedGeneratorTests {
    private func temporaryFile() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("saved-\(UUID()).safetensors")
    }

    @Test func ganAndVAECheckpointsRestoreTheirWeights() throws {
        var rng = RandomGenerator(seed: 0)
        let generator = DCGANGenerator(latentCount: 12, widths: [16, 8, 4], imageChannels: 1, classCount: 10, using: &rng)
        let ganFile = temporaryFile()
        defer { try? FileManager.default.removeItem(at: ganFile) }
        try Checkpoint(models: [("generator", generator)]).save(to: ganFile, generator: rng)
        let gan = try SavedGenerator.load(from: ganFile)
        guard case .gan(let restored) = gan else { Issue.record("expected a GAN, got \(gan.summary)"); return }
        #expect(restored.configuration == generator.configuration && gan.classCount == 10)
        #expect(restored.stateDict().map { $0.tensor.doubles } == generator.stateDict().map { $0.tensor.doubles })
        var draw = RandomGenerator(seed: 1)
        #expect(try gan.sample(count: 3, labels: [0, 4, 9], using: &draw).shape == [3, 1, 32, 32])
        #expect(throws: SavedGeneratorError.self) { try gan.sample(count: 3, using: &draw) }             // it needs a class
        #expect(throws: SavedGeneratorError.self) { try gan.sample(count: 1, labels: [10], using: &draw) }

        let vae = VariationalAutoencoder(imageChannels: 1, latentCount: 5, widths: [4, 8, 16], using: &rng)
        let vaeFile = temporaryFile()
        defer { try? FileManager.default.removeItem(at: vaeFile) }
        try Checkpoint(models: [("vae", vae)]).save(to: vaeFile, generator: rng)
        let savedVAE = try SavedGenerator.load(from: vaeFile)
        guard case .vae(let restoredVAE) = savedVAE else { Issue.record("expected a VAE, got \(savedVAE.summary)"); return }
        #expect(restoredVAE.configuration == vae.configuration && savedVAE.classCount == 0 && restoredVAE.parameterCount == vae.parameterCount)
        #expect(try savedVAE.sample(count: 2, using: &draw).shape == [2, 1, 32, 32])
        #expect(throws: SavedGeneratorError.self) { try savedVAE.sample(count: 2, labels: [1, 2], using: &draw) }
    }

    /// The DCGAN generator is restored with its averaged weights when the checkpoint kept them,
    /// and with its trained ones when it did not.
    @Test func ganCheckpointSamplesWithTheAveragedWeights() throws {
        var rng = RandomGenerator(seed: 0)
        let generator = DCGANGenerator(latentCount: 4, widths: [8, 4, 4], using: &rng)
        let average = ExponentialMovingAverage(generator.parameters, decay: 0.5)
        for parameter in generator.parameters { parameter.assign(parameter * 2) }
        average.update()                                                      // shadows = 1.9 × the initial weights
        let (averaged, plain) = (temporaryFile(), temporaryFile())
        defer { for file in [averaged, plain] { try? FileManager.default.removeItem(at: file) } }
        try Checkpoint(models: [("generator", generator)], averages: [("generator", average)]).save(to: averaged, generator: rng)
        try Checkpoint(models: [("generator", generator)]).save(to: plain, generator: rng)
        guard case .gan(let restored) = try SavedGenerator.load(from: averaged),
              case .gan(let trained) = try SavedGenerator.load(from: plain) else { Issue.record("expected GANs"); return }
        #expect(restored.parameters.map(\.doubles) == average.shadows.map(\.doubles))
        #expect(trained.parameters.map(\.doubles) == generator.parameters.map(\.doubles))
        #expect(restored.parameters.map(\.doubles) != trained.parameters.map(\.doubles))
    }

    /// The diffusion U-Net is restored with its averaged weights, not the last trained ones.
    @Test func diffusionCheckpointSamplesWithTheAveragedWeights() throws {
        var rng = RandomGenerator(seed: 0)
        let model = TinyUNet(width: 8, classCount: 10, using: &rng)
        let average = ExponentialMovingAverage(model.parameters, decay: 0.5)
        for parameter in model.parameters { parameter.assign(parameter * 2) }
        average.update()                                                      // warm-up decay 0.1: shadows = 1.9 × the initial weights
        let file = temporaryFile()
        defer { try? FileManager.default.removeItem(at: file) }
        try Checkpoint(models: [("unet", model)], averages: [("unet", average)]).save(to: file, generator: rng)
        let saved = try SavedGenerator.load(from: file)
        guard case .diffusion(let restored) = saved else { Issue.record("expected a U-Net, got \(saved.summary)"); return }
        #expect(saved.classCount == 10 && restored.parameterCount == model.parameterCount)
        #expect(restored.parameters.map(\.doubles) == average.shadows.map(\.doubles))
        var draw = RandomGenerator(seed: 1)
        var steps = 0
        let images = try saved.sample(count: 2, labels: [3, 3], sampler: .ddim(steps: 4), guidance: 1, using: &draw) { _ in steps += 1 }
        #expect(images.shape == [2, 1, 28, 28] && steps == 4)
        #expect(try saved.sample(count: 2, sampler: .ddim(steps: 2), using: &draw).shape == [2, 1, 28, 28])   // no class: allowed
    }

    /// A U-Net's checkpoint records its noise schedule and default sampler: `sample` without a
    /// sampler uses them, and a sampler the schedule cannot run is refused by name.
    @Test func diffusionCheckpointsRecordTheirScheduleAndSampler() throws {
        var rng = RandomGenerator(seed: 0)
        let model = TinyUNet(width: 8, schedule: NoiseSchedule.cosine(stepCount: 20).recipe, sampler: .ddim(steps: 3), using: &rng)
        let file = temporaryFile()
        defer { try? FileManager.default.removeItem(at: file) }
        try Checkpoint(models: [("unet", model)]).save(to: file, generator: rng)
        let saved = try SavedGenerator.load(from: file)
        guard case .diffusion(let restored) = saved else { Issue.record("expected a U-Net, got \(saved.summary)"); return }
        #expect(restored.configuration == model.configuration && restored.diffusion.schedule.betas == NoiseSchedule.cosine(stepCount: 20).betas)
        var draw = RandomGenerator(seed: 1)
        var passes = 0
        _ = try saved.sample(count: 1, using: &draw) { _ in passes += 1 }
        #expect(passes == 3)
        _ = try saved.sample(count: 1, sampler: .ddpm, using: &draw) { _ in passes += 1 }
        #expect(passes == 3 + 20)
        let error = try #require(throws: SavedGeneratorError.self) { try saved.sample(count: 1, sampler: .ddim(steps: 21), using: &draw) }
        #expect(error.description.contains("1…20 steps"))
        #expect(throws: SavedGeneratorError.invalidRequest("a diffusion model is drawn with the DDPM or DDIM sampler, not Heun-4")) {
            try saved.sample(count: 1, sampler: .heun(steps: 4), using: &draw)
        }
    }

    /// The flow U-Net and the latent flow load with their averaged weights and draw with their own
    /// sampler, or with Euler or Heun at any step count; a diffusion sampler is refused by name.
    @Test func flowCheckpointsDrawWithTheirOwnSampler() throws {
        var rng = RandomGenerator(seed: 0)
        let unet = FlowUNet(width: 8, classCount: 10, sampler: .euler(steps: 3), using: &rng)
        let vae = VariationalAutoencoder(latentCount: 4, widths: [4, 8, 16], using: &rng)
        let latent = LatentFlow(autoencoder: vae, flow: VelocityMLP(dimension: 4, width: 8, sampler: .heun(steps: 2), using: &rng),
                                latentScale: 0.5)
        for (name, model) in [("flow", unet), ("latent-flow", latent)] as [(String, Module)] {
            let average = ExponentialMovingAverage(model.parameters, decay: 0.5)
            for parameter in model.parameters { parameter.assign(parameter * 2) }
            average.update()
            let file = temporaryFile()
            defer { try? FileManager.default.removeItem(at: file) }
            try Checkpoint(models: [(name, model)], averages: [(name, average)]).save(to: file, generator: rng)
            let saved = try SavedGenerator.load(from: file)
            var draw = RandomGenerator(seed: 1)
            var steps = 0
            switch saved {
            case .flow(let restored):
                #expect(restored.configuration == unet.configuration && restored.parameters.map(\.doubles) == average.shadows.map(\.doubles))
                #expect(saved.defaultSampler == .euler(steps: 3) && saved.samplingSteps == 3 && saved.classCount == 10)
                let images = try saved.sample(count: 2, labels: [1, 9], guidance: 2, using: &draw) { _ in steps += 1 }
                #expect(images.shape == [2, 1, 28, 28] && steps == 3)
                #expect(try saved.sample(count: 1, sampler: .heun(steps: 2), using: &draw).shape == [1, 1, 28, 28])   // no class: allowed
            case .latentFlow(let restored):
                #expect(restored.configuration == latent.configuration && restored.parameters.map(\.doubles) == average.shadows.map(\.doubles))
                #expect(saved.defaultSampler == .heun(steps: 2) && saved.samplingSteps == 2 && saved.classCount == 0)
                let images = try saved.sample(count: 3, using: &draw) { _ in steps += 1 }
                #expect(images.shape == [3, 1, 32, 32] && steps == 2 && images.floats.allSatisfy { abs($0) <= 1 })
                #expect(throws: SavedGeneratorError.self) { try saved.sample(count: 1, labels: [0], using: &draw) }
            default: Issue.record("expected a flow model, got \(saved.summary)")
            }
            let refusal = try #require(throws: SavedGeneratorError.self) { try saved.sample(count: 1, sampler: .ddim(steps: 2), using: &draw) }
            #expect(refusal.description == "a flow model is drawn with the Euler or Heun sampler, not DDIM-2")
            #expect(throws: SavedGeneratorError.self) { try saved.sample(count: 1, sampler: .euler(steps: 0), using: &draw) }
        }
    }

    @Test func otherFilesAreRefusedByName() throws {
        var rng = RandomGenerator(seed: 0)
        let file = temporaryFile()
        defer { try? FileManager.default.removeItem(at: file) }
        try Checkpoint(models: [("critic", DCGANDiscriminator(widths: [4, 8, 16], using: &rng))]).save(to: file, generator: rng)
        #expect { try SavedGenerator.load(from: file) } throws: { error in
            guard case .unrecognized(_, let models) = error as? SavedGeneratorError else { return false }
            return models == ["critic (DCGANDiscriminator)"]
        }
    }

    /// Averaged weights that do not fit the weights beside them are refused, not silently loaded.
    @Test func mismatchedAveragesAreRefused() throws {
        var rng = RandomGenerator(seed: 0)
        let model = TinyUNet(width: 8, using: &rng)
        let wider = ExponentialMovingAverage(TinyUNet(width: 16, using: &rng).parameters)
        let file = temporaryFile()
        defer { try? FileManager.default.removeItem(at: file) }
        try Checkpoint(models: [("unet", model)], averages: [("unet", wider)]).save(to: file, generator: rng)
        #expect { try SavedGenerator.load(from: file) } throws: { error in
            guard case .inconsistent = error as? SavedGeneratorError else { return false }
            return "\(error)".contains("ema.unet")
        }
    }

    /// The bytes `safetensors.torch.save_file` writes for `entries`: `format: pt` metadata first,
    /// then the entries ordered by dtype (widest kind first, as the format's reference writer
    /// orders them) and name, the header padded with spaces to a multiple of 8 bytes.
    static func pytorchLaidOut(_ entries: [(name: String, dtype: String, shape: [Int], bytes: [UInt8])]) -> Data {
        let rank = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]
        let ordered = entries.sorted { (rank.firstIndex(of: $1.dtype)!, $0.name) < (rank.firstIndex(of: $0.dtype)!, $1.name) }
        var offset = 0, fields = [#""__metadata__":{"format":"pt"}"#]
        for entry in ordered {
            fields.append(#""\#(entry.name)":{"dtype":"\#(entry.dtype)","shape":[\#(entry.shape.map(String.init).joined(separator: ","))],"data_offsets":[\#(offset),\#(offset + entry.bytes.count)]}"#)
            offset += entry.bytes.count
        }
        var header = Array("{\(fields.joined(separator: ","))}".utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        return Data((0..<8).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) } + header + ordered.flatMap(\.bytes))
    }

    /// A state dict PyTorch wrote for the source's generator (F32 weights, I64 `num_batches_tracked`)
    /// and for its VAE decoder in half precision both load, converted exactly.
    @Test func pytorchWrittenStateDictsLoad() throws {
        var rng = RandomGenerator(seed: 6)
        let generator = DCGANGenerator(latentCount: 4, widths: [8, 4, 4], using: &rng)
        let generatorFile = temporaryFile()
        defer { try? FileManager.default.removeItem(at: generatorFile) }
        try Self.pytorchLaidOut(generator.stateDict().map { name, tensor in
            name.hasSuffix("num_batches_tracked")
                ? (name, "I64", [], (0..<8).map { $0 == 0 ? 5 : 0 })
                : (name, "F32", tensor.shape, tensor.floats.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * $0)) } })
        }).write(to: generatorFile)
        let json = generator.configuration.json
        let gan = try SavedGenerator.load(pytorchStateDict: generatorFile, module: .dcganGenerator, configuration: json)
        guard case .gan(let restored) = gan else { Issue.record("expected a GAN, got \(gan.summary)"); return }
        #expect(restored.stateDict().map(\.name) == generator.stateDict().map(\.name))
        for ((name, mine), (_, theirs)) in zip(restored.stateDict(), generator.stateDict()) {
            #expect(mine.floats == (name.hasSuffix("num_batches_tracked") ? [5] : theirs.floats), "\(name)")
        }
        // The source's sizes (the default) do not fit this small generator's tensors: a named error.
        #expect { try SavedGenerator.load(pytorchStateDict: generatorFile, module: .dcganGenerator) } throws: { error in
            "\(error)".contains("state dict: 'main.0.weight' has shape [4, 8, 4, 4], the module expects [100, 512, 4, 4]")
        }

        let vae = VariationalAutoencoder(latentCount: 3, widths: [4, 8, 8], using: &rng)
        let decoder = vae.stateDict().filter { $0.name.hasPrefix("decoder.") }
        let decoderFile = temporaryFile()
        defer { try? FileManager.default.removeItem(at: decoderFile) }
        try Self.pytorchLaidOut(decoder.map { name, tensor in
            (String(name.dropFirst("decoder.".count)), "F16", tensor.shape,
             tensor.floats.flatMap { value in [UInt8(Float16(value).bitPattern & 0xFF), UInt8(Float16(value).bitPattern >> 8)] })
        }).write(to: decoderFile)
        let saved = try SavedGenerator.load(pytorchStateDict: decoderFile, module: .vaeDecoder, configuration: vae.configuration.json)
        guard case .vae(let restoredVAE) = saved else { Issue.record("expected a VAE, got \(saved.summary)"); return }
        let restoredDecoder = restoredVAE.stateDict().filter { $0.name.hasPrefix("decoder.") }
        #expect(restoredDecoder.map(\.tensor.floats) == decoder.map { $0.tensor.floats.map { Float(Float16($0)) } })
        var draw = RandomGenerator(seed: 1)
        #expect(try saved.sample(count: 2, using: &draw).shape == [2, 1, 32, 32])
    }
}
