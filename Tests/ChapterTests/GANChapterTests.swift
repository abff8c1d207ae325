import Foundation
import Testing
import TensorCore

@Suite struct GANChapterTests {
    @Test func quickRunTrainsAndScores() throws {
        try ChapterRun.quick("GAN", seed: 1, writing: ["real.png", "epoch-1.png", "epochs.png", "samples.png", "interpolation.png", "losses.svg",
                                                     "discriminator-outputs.svg", "wgan-gp-samples.png", "wgan-gp-curves.svg",
                                                     "conditional.png", "transcript.json"]) { run, m in
            #expect(m["DCGAN FID-FMNIST"].map { $0.isFinite && $0 > 0 } == true)
            #expect(m["floor FID-FMNIST"]! < m["DCGAN FID-FMNIST"]!, "real images must score better than a few seconds of training")
            // Both generators keep an average of their weights beside the trained ones.
            for file in ["dcgan.safetensors", "cgan.safetensors"] {
                let checkpoint = try SafeTensors(contentsOf: run.output.appendingPathComponent(file))
                let weights = checkpoint.tensors.filter {                   // parameters, not BatchNorm's running statistics
                    $0.name.hasPrefix("generator.") && ($0.name.hasSuffix(".weight") || $0.name.hasSuffix(".bias"))
                }.count
                #expect(weights > 0 && checkpoint.tensors.filter { $0.name.hasPrefix("ema.generator.") }.count == weights, "\(file)")
            }
        }
    }

    /// What a chapter needs and cannot use — the dataset, its output folder, the checkpoint it is
    /// asked to resume — ends the run with status 1 and the reason, not a crash report.
    @Test func missingOrDamagedInputsEndTheRunWithTheReason() throws {
        func expectCleanFailure(_ run: ChapterRun, mentioning reason: String) {
            #expect(run.status == 1, "\(run.standardOutput.suffix(2000))")
            #expect(run.standardOutput.contains("Error: ") && run.standardOutput.contains(reason), "\(run.standardOutput.suffix(2000))")
            #expect(!run.standardOutput.contains("Fatal error") && !run.standardOutput.contains("crashed"))
        }
        let noData = try ChapterRun("GAN", ["--quick"], environment: ["FASHION_MNIST_DIR": "/nonexistent/fashion-mnist"])
        defer { noData.removeOutput() }
        expectCleanFailure(noData, mentioning: "/nonexistent/fashion-mnist: Fashion-MNIST directory does not exist")

        let unwritable = try ChapterRun("GAN", ["--quick", "--out", "/dev/null/gan"], addOutput: false)
        expectCleanFailure(unwritable, mentioning: "/dev/null/gan: Not a directory")

        let damaged = FileManager.default.temporaryDirectory.appendingPathComponent("GAN-\(UUID())")
        try FileManager.default.createDirectory(at: damaged, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: damaged) }
        try Data("not a checkpoint".utf8).write(to: damaged.appendingPathComponent("dcgan.safetensors"))
        let resumed = try ChapterRun("GAN", ["--quick", "--resume"], output: damaged)
        expectCleanFailure(resumed, mentioning: "dcgan.safetensors")
    }

    /// Kill a run right after its first checkpoint, resume it, and end with exactly the weights and
    /// pictures of a run that was never interrupted; a temporary file that an interrupted write
    /// left is removed on the way.
    @Test func killedRunResumesToTheSameWeights() throws {
        let arguments = ["--quick", "--seed", "2", "--epochs", "3"]
        let straight = try ChapterRun("GAN", arguments)
        defer { straight.removeOutput() }
        #expect(straight.status == 0)

        let interrupted = try ChapterRun("GAN", arguments, killWhenFileAppears: "dcgan.safetensors")
        defer { interrupted.removeOutput() }
        let checkpoint = interrupted.output.appendingPathComponent("dcgan.safetensors")
        let epochAtKill = Int(try SafeTensors(contentsOf: checkpoint).metadata["counter.epoch"] ?? "") ?? -1
        #expect(epochAtKill >= 1 && epochAtKill < 3, "the kill should land between epochs, checkpoint says epoch \(epochAtKill)")

        let stale = ".dcgan.safetensors.\(Int32.max).tmp"                     // as a write killed midway leaves it
        try Data("partial".utf8).write(to: interrupted.output.appendingPathComponent(stale))
        let resumed = try ChapterRun("GAN", arguments + ["--resume"], output: interrupted.output)
        #expect(resumed.status == 0, "\(resumed.standardOutput.suffix(2000))")
        #expect(resumed.standardOutput.contains("DCGAN: resumed after step \(epochAtKill * 32) from the checkpoint"))   // 2048 images, 64 a batch
        #expect(resumed.standardOutput.contains("removed \(stale), left by a checkpoint write that was interrupted"))
        #expect(!resumed.fileExists(stale))
        let pictures = try FileManager.default.contentsOfDirectory(atPath: straight.output.path).filter { $0.hasSuffix(".png") }
        #expect(pictures.count > 5)
        for picture in pictures {
            let (a, b) = (straight.output.appendingPathComponent(picture), interrupted.output.appendingPathComponent(picture))
            #expect(try Data(contentsOf: a) == Data(contentsOf: b), "\(picture) differs after resuming")
        }
        let expected = try SafeTensors(contentsOf: straight.output.appendingPathComponent("dcgan.safetensors"))
        let actual = try SafeTensors(contentsOf: checkpoint)
        #expect(expected.tensors.map(\.name) == actual.tensors.map(\.name))
        for ((name, a), (_, b)) in zip(expected.tensors, actual.tensors) {
            #expect(a.doubles == b.doubles, "\(name) differs after resuming")
        }
    }
}
