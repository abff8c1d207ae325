import Foundation
import Testing

@Suite struct PracticeChapterTests {
    /// From nothing, the quick run has the three chapters train their main models, compares them in
    /// one table and writes every application's figure; the super-resolved images average down to
    /// their low-resolution inputs.
    @Test func quickRunTrainsWhatIsMissingAndComparesTheFamilies() throws {
        try ChapterRun.quick("Practice", seed: 3, writing: ["side-by-side.png", "vae-editing.png", "inpainting.png", "super-resolution.png",
                                                          "transcript.json"]) { run, m in
            #expect(run.standardOutput.contains("no checkpoint of GAN, VAE, Flow in") && run.standardOutput.contains(", quick versions"))
            #expect(run.standardOutput.contains("04-Diffusion/diffusion.safetensors: `swift run -c release Diffusion` trains it"))
            for chapter in ["02-GAN/dcgan.safetensors", "03-VAE/vae.safetensors", "05-Flow/flow.safetensors"] {
                #expect(run.fileExists("chapters/\(chapter)"), "missing \(chapter)")
            }
            // --train-only ran the flow chapter's 2-D flow in full on the way to its main model, the
            // U-Net, and stopped there: its manifest counts the U-Net alone, nothing later was trained.
            #expect(run.fileExists("chapters/05-Flow/plane-flow.safetensors"))
            #expect(!run.fileExists("chapters/05-Flow/diffusion.safetensors") && !run.fileExists("chapters/04-Diffusion"))
            let flowManifest = try JSONSerialization.jsonObject(
                with: Data(contentsOf: run.output.appendingPathComponent("chapters/05-Flow/manifest.json"))) as? [String: Any]
            #expect((flowManifest?["trainings"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["flow U-Net"])
            for name in ["GAN", "VAE", "Flow", "Flow, guided"] {
                #expect(m["\(name) FID-FMNIST"].map { $0 > 0 && $0.isFinite } == true, "\(name)")
            }
            #expect(m["super-resolution PSNR flow"].map(\.isFinite) == true && m["super-resolution PSNR bilinear"].map(\.isFinite) == true)
            #expect(m["super-resolution largest deviation from the low-resolution input"].map { $0 < 1e-5 } == true)
        }
    }
}
