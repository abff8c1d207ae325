import Foundation
import Testing
import TensorCore

@Suite struct DiffusionChapterTests {
    /// The quick run trains, samples with both samplers and with guidance, bounds the likelihood and
    /// writes every figure; its checkpoint holds the averaged weights; and a run resumed from that
    /// checkpoint skips training and reproduces every number.
    @Test func quickRunSamplesBoundsAndResumes() throws {
        try ChapterRun.quick("Diffusion", seed: 1, writing: ["alpha-bar.svg", "noising.png", "loss.svg", "ddpm-samples.png", "trajectory.png",
                                                            "trajectory-guesses.png", "ddim-samples.png", "fid-vs-steps.svg", "classes.png",
                                                            "guidance-sweep.png", "bound-per-step.svg", "transcript.json"]) { run, m in
            let bits = try #require(m["bits per dimension"])
            #expect(bits.isFinite && bits > 0, "a bound on the probability of discrete images is positive, got \(bits)")
            #expect(m["DDIM-50 FID-FMNIST"].map { $0 > 0 } == true && m["DDPM FID-FMNIST of the grid"].map { $0 > 0 } == true)
            let agreement = try #require(m["guidance 2.0 label agreement"])
            #expect(agreement >= 0 && agreement <= 1)
            let checkpoint = try SafeTensors(contentsOf: run.output.appendingPathComponent("diffusion.safetensors"))
            let weights = checkpoint.tensors.filter { $0.name.hasPrefix("unet.") }.count
            #expect(weights > 0 && checkpoint.tensors.filter { $0.name.hasPrefix("ema.unet.") }.count == weights)

            let resumed = try ChapterRun("Diffusion", ["--quick", "--seed", "1", "--resume"], output: run.output)
            #expect(resumed.status == 0 && resumed.standardOutput.contains("U-Net: all 32 steps were in the checkpoint already"), "\(resumed.standardOutput.suffix(2000))")
            let again = try resumed.metrics()
            for key in ["bits per dimension", "DDIM-50 FID-FMNIST", "guidance 2.0 FID-FMNIST"] {
                #expect(again[key] == m[key], "\(key): \(String(describing: again[key])) after resuming, \(String(describing: m[key])) before")
            }

            // The Sample tool draws from the saved model; impossible requests are refused with the reason.
            let grid = run.output.appendingPathComponent("sneakers.png")
            let sampled = try ChapterRun("Sample", ["--checkpoint", run.output.appendingPathComponent("diffusion.safetensors").path,
                                                    "--count", "10", "--class", "Sneaker", "--guidance", "2", "--steps", "5", "--out", grid.path],
                                         addOutput: false)
            #expect(sampled.status == 0 && FileManager.default.fileExists(atPath: grid.path), "\(sampled.standardOutput)")
            let refused = try ChapterRun("Sample", ["--checkpoint", run.output.appendingPathComponent("transcript.json").path], addOutput: false)
            #expect(refused.status != 0 && refused.standardOutput.contains("cannot use"), "\(refused.standardOutput)")
            let badClass = try ChapterRun("Sample", ["--checkpoint", grid.path, "--class", "hat"], addOutput: false)
            #expect(badClass.status != 0 && badClass.standardOutput.contains("unknown class \"hat\""), "\(badClass.standardOutput)")
        }
    }

    /// `--minutes` stops the chapter's training within one step of its budget and checkpoints it
    /// there; the estimate comes first; `--steps` with the printed count repeats the run byte for
    /// byte. (`--train-only`: the chapter's training, without its sampling and scoring.)
    @Test func aBudgetStopsTrainingAndStepsRepeatIt() throws {
        let budgeted = try ChapterRun("Diffusion", ["--quick", "--seed", "4", "--epochs", "50", "--minutes", "0.05", "--train-only"])
        defer { budgeted.removeOutput() }
        #expect(budgeted.status == 0, "\(budgeted.standardOutput.suffix(2000))")
        #expect(budgeted.standardOutput.contains("U-Net: 1600 steps to train, about"))
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: budgeted.output.appendingPathComponent("manifest.json"))) as? [String: Any]
        let training = try #require((manifest?["trainings"] as? [[String: Any]])?.first)
        let steps = try #require(training["steps"] as? Int), seconds = try #require(training["seconds"] as? Double)
        #expect(steps > 3 && steps < 1600, "\(training)")
        #expect(seconds >= 3 && seconds - 3 < 2 * seconds / Double(steps), "stopped within one step of the 3 s budget: \(seconds) s, \(steps) steps")
        #expect(budgeted.standardOutput.contains("to repeat this run exactly (same seed, same machine): --steps \(steps)"))
        let checkpoint = try Data(contentsOf: budgeted.output.appendingPathComponent("diffusion.safetensors"))
        #expect(!budgeted.fileExists("ddpm-samples.png"), "--train-only stops after the training")

        let repeated = try ChapterRun("Diffusion", ["--quick", "--seed", "4", "--epochs", "50", "--steps", String(steps), "--train-only"])
        defer { repeated.removeOutput() }
        #expect(repeated.status == 0, "\(repeated.standardOutput.suffix(2000))")
        #expect(try Data(contentsOf: repeated.output.appendingPathComponent("diffusion.safetensors")) == checkpoint)
    }
}
