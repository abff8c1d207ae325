import Foundation
import Testing

@Suite struct PracticeChapterTests {
    /// From nothing, the quick run trains the three chapters' models itself, compares them in one
    /// table and writes every application's figure; the super-resolved images average down to
    /// their low-resolution inputs.
    @Test func quickRunTrainsWhatIsMissingAndComparesTheFamilies() throws {
        try ChapterRun.quick("Practice", seed: 3, writing: ["side-by-side.png", "vae-editing.png", "inpainting.png", "super-resolution.png",
                                                          "transcript.json"]) { run, m in
            #expect(run.standardOutput.contains("no checkpoint of GAN, VAE, Diffusion in") && run.standardOutput.contains(", quick versions"))
            #expect(run.standardOutput.contains("no checkpoint of chapter 5's flow models in"))
            for chapter in ["02-GAN/dcgan.safetensors", "03-VAE/vae.safetensors", "04-Diffusion/diffusion.safetensors"] {
                #expect(run.fileExists("chapters/\(chapter)"), "missing \(chapter)")
            }
            for name in ["GAN", "VAE", "Diffusion"] { #expect(m["\(name) FID-FMNIST"].map { $0 > 0 && $0.isFinite } == true, "\(name)") }
            #expect(m["super-resolution PSNR diffusion"].map(\.isFinite) == true && m["super-resolution PSNR bilinear"].map(\.isFinite) == true)
            #expect(m["super-resolution largest deviation from the low-resolution input"].map { $0 < 1e-5 } == true)
        }
    }
}
