import Foundation
import Testing
import TensorCore

@Suite struct FlowChapterTests {
    /// The quick run trains every model of the chapter, scores every sampler and writes every
    /// figure; a resumed run skips the training and reproduces the numbers; and `Sample` draws from
    /// both image checkpoints with their own samplers and with others, refusing a diffusion sampler.
    @Test func quickRunTrainsScoresResumesAndSamples() throws {
        try ChapterRun.quick("Flow", seed: 2, writing: ["field-t9.svg", "field-t5.svg", "field-t1.svg", "trajectories.svg", "langevin.svg",
                                                       "fid-vs-evaluations.svg", "fid-vs-steps.svg", "classes.png", "reflow.png",
                                                       "latent-samples.png", "transcript.json"]) { run, m in
            for key in ["Euler-2 FID-FMNIST", "Heun-2 FID-FMNIST", "DDIM-2 FID-FMNIST", "guidance 2.0 FID-FMNIST", "reflow Euler-1 FID-FMNIST"] {
                #expect(m[key].map { $0 > 0 && $0.isFinite } == true, "\(key): \(String(describing: m[key]))")
            }
            #expect(run.standardOutput.contains("straightness (Euler, 16 steps)"))
            let checkpoint = try SafeTensors(contentsOf: run.output.appendingPathComponent("flow.safetensors"))
            #expect(checkpoint.metadata["model.unet.kind"] == "FlowUNet" && checkpoint.tensors.contains { $0.name.hasPrefix("ema.unet.") })

            let resumed = try ChapterRun("Flow", ["--quick", "--seed", "2", "--resume"], output: run.output)
            #expect(resumed.status == 0 && resumed.standardOutput.contains("flow U-Net: all 32 steps were in the checkpoint already"),
                    "\(resumed.standardOutput.suffix(2000))")
            let again = try resumed.metrics()
            for key in ["Euler-2 FID-FMNIST", "DDIM-2 FID-FMNIST", "reflow Euler-1 FID-FMNIST"] {
                #expect(again[key] == m[key], "\(key): \(String(describing: again[key])) after resuming, \(String(describing: m[key])) before")
            }

            let grid = run.output.appendingPathComponent("flow-samples.png")
            for arguments in [["--checkpoint", run.output.appendingPathComponent("flow.safetensors").path, "--sampler", "euler", "--steps", "3",
                               "--class", "bag", "--guidance", "1"],
                              ["--checkpoint", run.output.appendingPathComponent("latent-flow.safetensors").path, "--count", "8"]] {
                let sampled = try ChapterRun("Sample", arguments + ["--out", grid.path], addOutput: false)
                #expect(sampled.status == 0 && FileManager.default.fileExists(atPath: grid.path), "\(sampled.standardOutput)")
                try? FileManager.default.removeItem(at: grid)
            }
            let refused = try ChapterRun("Sample", ["--checkpoint", run.output.appendingPathComponent("flow.safetensors").path,
                                                    "--sampler", "ddim", "--out", grid.path], addOutput: false)
            #expect(refused.status != 0 && refused.standardOutput.contains("a flow model is drawn with the Euler or Heun sampler, not DDIM-8"),
                    "\(refused.standardOutput)")
        }
    }
}
