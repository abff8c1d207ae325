import Foundation
@testable import Evaluation
@testable import GenerativeModels
import NeuralNetworks
import Testing
import TestSupport

/// A new, empty folder for one test's files.
private func temporaryFolder(_ name: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

/// Every kind of file the project writes reads back with the format's official reader, the Python
/// `safetensors` package, with the names, shapes, dtypes and metadata this library wrote.
@Suite struct OfficialReaderTests {
    /// Prints, for each file named on the command line, its metadata and each tensor's dtype and shape, as JSON.
    static let script = """
        import json, sys
        from safetensors import safe_open
        result = {}
        for path in sys.argv[1:]:
            with safe_open(path, framework="numpy") as f:
                result[path] = {"metadata": f.metadata() or {},
                                "tensors": {k: [str(f.get_tensor(k).dtype), list(f.get_tensor(k).shape)] for k in f.keys()}}
        print(json.dumps(result))
        """

    static let readerIsInstalled = (try? ProcessRun(python: ["-c", "import safetensors, numpy"]))?.status == 0

    @Test(.enabled(if: readerIsInstalled, "python3 with the safetensors and numpy packages is not installed (pip install safetensors numpy)"))
    func everyCheckpointKindReadsWithTheOfficialReader() throws {
        let folder = try temporaryFolder("official-reader")
        defer { try? FileManager.default.removeItem(at: folder) }
        var rng = RandomGenerator(seed: 2)
        let generator = DCGANGenerator(latentCount: 6, widths: [16, 8, 4], classCount: 10, using: &rng)
        let critic = DCGANDiscriminator(widths: [4, 8, 16], batchNorm: false, using: &rng)
        let vae = VariationalAutoencoder(latentCount: 3, widths: [4, 8, 16], using: &rng)
        let unet = TinyUNet(width: 8, classCount: 10, using: &rng)
        let flow = FlowUNet(width: 8, classCount: 10, using: &rng)
        let latentFlow = LatentFlow(autoencoder: vae, flow: VelocityMLP(dimension: 3, width: 8, classCount: 10, using: &rng), latentScale: 0.8)
        let checkpoints: [(String, Checkpoint)] = [
            ("gan", Checkpoint(models: [("generator", generator), ("critic", critic)],
                               optimizers: [("generator", Adam(generator.parameters)), ("critic", Adam(critic.parameters))])),
            ("vae", Checkpoint(models: [("vae", vae)], optimizers: [("vae", Adam(vae.parameters))])),
            ("diffusion", Checkpoint(models: [("unet", unet)], optimizers: [("unet", Adam(unet.parameters))],
                                     averages: [("unet", ExponentialMovingAverage(unet.parameters))])),
            ("flow", Checkpoint(models: [("flow", flow)], optimizers: [("flow", Adam(flow.parameters))],
                                averages: [("flow", ExponentialMovingAverage(flow.parameters))])),
            ("latent-flow", Checkpoint(models: [("latent-flow", latentFlow)], optimizers: [("latent-flow", Adam(latentFlow.flow.parameters))],
                                       averages: [("latent-flow", ExponentialMovingAverage(latentFlow.parameters))])),
        ]
        var files: [URL] = []
        for (name, checkpoint) in checkpoints {
            let url = folder.appendingPathComponent("\(name).safetensors")
            try checkpoint.save(to: url, generator: rng, counters: ["step": 3], series: ["loss": [0.5, 0.25]])
            files.append(url)
            let exported = folder.appendingPathComponent("\(name)-pytorch.safetensors")
            try SavedGenerator.load(from: url).pytorchStateDict.write(to: exported)
            files.append(exported)
        }
        files.append(try #require(Evaluator.resourceFile))                      // the committed FID classifier

        let run = try ProcessRun(python: ["-c", Self.script] + files.map(\.path))
        try #require(run.status == 0, "\(run.standardError)")
        let read = try #require(try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: [String: Any]])
        for url in files {
            let ours = try SafeTensors(contentsOf: url)
            let theirs = try #require(read[url.path])
            #expect(theirs["metadata"] as? [String: String] == ours.metadata, "\(url.lastPathComponent)")
            let tensors = try #require(theirs["tensors"] as? [String: [Any]])
            let expected = Dictionary(uniqueKeysWithValues: ours.tensors.map { ($0.name, [$0.tensor.dtype == .float32 ? "float32" : "float64", $0.tensor.shape.description]) })
            let found = tensors.mapValues { ["\($0[0])", (($0[1] as? [Int]) ?? [-1]).description] }
            #expect(found == expected, "\(url.lastPathComponent)")
        }
        // The exported state dicts carry PyTorch's own names, without a checkpoint's model prefix.
        let exportedGAN = try #require(read[files[1].path]?["tensors"] as? [String: Any])
        #expect(Set(exportedGAN.keys) == Set(generator.stateDict().map(\.name)))
    }
}

/// A state dict exported for PyTorch loads into `Scripts/pytorch_models.py`'s module with
/// `strict=True`, and that module computes what the Swift network computes.
@Suite struct PyTorchExportTests {
    static let torchIsInstalled = (try? ProcessRun(python: ["-c", "import torch, safetensors, numpy"]))?.status == 0

    /// `Scripts/pytorch_models.py`, found from this file's place in the package.
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Scripts/pytorch_models.py")

    @Test(.enabled(if: torchIsInstalled, "python3 with torch, safetensors and numpy is not installed"))
    func exportedModelsComputeTheSameInPyTorch() throws {
        let folder = try temporaryFolder("pytorch-export")
        defer { try? FileManager.default.removeItem(at: folder) }
        var rng = RandomGenerator(seed: 8)
        let models: [(String, any ConfigurableModel)] = [
            ("generator", DCGANGenerator(latentCount: 6, widths: [16, 8, 8], classCount: 10, using: &rng)),
            ("vae", VariationalAutoencoder(latentCount: 3, widths: [8, 8, 16], classCount: 0, using: &rng)),
            ("unet", TinyUNet(width: 8, classCount: 10, using: &rng)),
            ("flow", FlowUNet(width: 8, classCount: 10, using: &rng)),
            ("latent-flow", LatentFlow(autoencoder: VariationalAutoencoder(latentCount: 3, widths: [8, 8, 16], using: &rng),
                                       flow: VelocityMLP(dimension: 3, width: 16, classCount: 10, using: &rng), latentScale: 0.7)),
        ]
        for (name, model) in models {
            model.eval()
            let checkpoint = folder.appendingPathComponent("\(name).safetensors"), exported = folder.appendingPathComponent("\(name)-pt.safetensors")
            try Checkpoint(models: [(name, model)]).save(to: checkpoint, generator: rng)
            let saved = try SavedGenerator.load(from: checkpoint)
            try saved.pytorchStateDict.write(to: exported)
            let (input, output): (Tensor, Tensor)
            switch saved {
            case .gan(let generator):
                input = Tensor.randomNormal([4, 6], using: &rng)
                output = generator(input.reshaped([4, 6, 1, 1]), labels: [0, 1, 2, 3])
            case .vae(let vae):
                input = Tensor.randomNormal([4, 3], using: &rng)
                output = vae.decode(input)
            case .diffusion(let unet):
                input = Tensor.randomNormal([4, 1, 28, 28], using: &rng)
                output = unet(input, timesteps: [0, 97, 194, 291], labels: [0, 1, 2, 3])
            case .flow(let model):
                input = Tensor.randomNormal([4, 1, 28, 28], using: &rng)
                output = model(input, times: [0, 0.25, 0.5, 0.75], labels: [0, 1, 2, 3])
            case .latentFlow(let model):
                input = Tensor.randomNormal([4, 3], using: &rng)
                output = model.flow(input, times: [0, 0.25, 0.5, 0.75], labels: [0, 1, 2, 3])
            }
            let inputFile = folder.appendingPathComponent("\(name)-in.npy"), outputFile = folder.appendingPathComponent("\(name)-out.npy")
            try input.saveNumPy(to: inputFile)
            let run = try ProcessRun(python: [Self.script.path, exported.path, inputFile.path, outputFile.path])
            try #require(run.status == 0, "\(run.standardError)")
            #expect(run.standardOutput.contains("loaded with strict=True"))
            let theirs = try Tensor.loadNumPy(from: outputFile)
            #expect(theirs.shape == output.shape, "\(name)")
            let difference = zip(theirs.floats, output.floats).map { abs($0 - $1) }.max() ?? .infinity
            #expect(difference < 1e-4, "\(name): largest difference \(difference)")
        }
    }
}
