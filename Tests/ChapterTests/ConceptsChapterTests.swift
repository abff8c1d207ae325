import Foundation
import Testing

@Suite struct ConceptsChapterTests {
    /// The quick run trains all three 2-D models; their losses fall and their samples take on the
    /// data's position and spread (the GAN, given only a few hundred steps, more loosely).
    @Test func quickRunLearnsTheTwoMoons() throws {
        try ChapterRun.quick("Concepts", seed: 0, writing: ["data.svg", "gan-samples.svg", "vae-samples.svg", "diffusion-samples.svg",
                                                          "gan-losses.svg", "transcript.json"]) { run, m in
            for model in ["VAE", "Diffusion"] {
                #expect(m["\(model) loss end"]! < 0.8 * m["\(model) loss start"]!, "\(model) loss did not fall")
                #expect(m["\(model) mean error"]! < 0.15 && m["\(model) relative spread error"]! < 0.3, "\(model) samples: \(m)")
                #expect(m["\(model) recall"]! > 0.8, "\(model) samples miss part of the data")
            }
            #expect(m["GAN mean error"]! < 0.25 && m["GAN relative spread error"]! < 0.75)
            #expect(run.standardOutput.contains("gradient check passed"))
        }
    }

    /// `--resume` in a folder with no checkpoint says so, then runs from the beginning.
    @Test func resumeWithNothingToResumeSaysSoAndStarts() throws {
        let run = try ChapterRun("Concepts", ["--quick", "--resume"])
        defer { run.removeOutput() }
        #expect(run.status == 0)
        #expect(run.standardOutput.contains("--resume: no checkpoint in \(run.output.path) to continue from; starting from the beginning"))
    }

    /// `--help` names the program the reader ran, and lists the budget flags.
    @Test func helpNamesTheChapter() throws {
        for chapter in ["Concepts", "GAN", "VAE", "Diffusion", "Flow", "Practice"] {
            let run = try ChapterRun(chapter, ["--help"], addOutput: false)
            #expect(run.status == 0)
            #expect(run.standardOutput.contains("USAGE: \(chapter) "), "\(run.standardOutput.prefix(300))")
            #expect(run.standardOutput.contains("--minutes <minutes>") && run.standardOutput.contains("--steps <n,n,…>"))
        }
        // The tools name themselves too.
        for tool in ["Sample", "Weave", "Bench"] {
            let run = try ChapterRun(tool, ["--help"], addOutput: false)
            #expect(run.status == 0 && run.standardOutput.contains("USAGE: \(tool) "), "\(run.standardOutput.prefix(300))")
        }
    }

    @Test func impossibleFlagsAreRejected() throws {
        let run = try ChapterRun("Concepts", ["--quick", "--full"])
        defer { run.removeOutput() }
        #expect(run.status != 0)
    }
}
