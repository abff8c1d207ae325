import Foundation
import Testing

@Suite struct VAEChapterTests {
    /// The quick run trains, reports its bounds (the IWAE bound at least as tight as the ELBO) and
    /// writes every figure.
    @Test func quickRunTrainsAndReportsItsBounds() throws {
        try ChapterRun.quick("VAE", seed: 1, writing: ["losses.svg", "reconstructions.png", "samples.png", "interpolation.png",
                                                     "kl-per-dimension.svg", "latent-map.svg", "latent-manifold.png", "beta-sweep.png",
                                                     "conditional.png", "transcript.json"]) { _, m in
            let elbo = try #require(m["negative ELBO on the IWAE subset nats"]), iwae = try #require(m["negative IWAE nats"])
            #expect(elbo.isFinite && iwae.isFinite && m["negative ELBO nats"]?.isFinite == true)
            #expect(iwae <= elbo, "the k = 64 bound must not be looser than the ELBO of the same samples (\(iwae) vs \(elbo))")
            #expect(m["VAE FID-FMNIST"].map { $0 > 0 } == true)
        }
    }
}
