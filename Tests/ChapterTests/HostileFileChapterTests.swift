import Foundation
import Testing
import TensorCore

/// The files of the crash reports, handed to the programs that died on them: each now ends with
/// the reason and status 1, not a trap.
@Suite struct HostileFileChapterTests {
    private func expectCleanFailure(_ run: ChapterRun, mentioning reason: String) {
        #expect(run.status == 1, "\(run.standardOutput.suffix(2000))")
        #expect(run.standardOutput.contains(reason), "\(run.standardOutput.suffix(2000))")
        #expect(!run.standardOutput.contains("Fatal error") && !run.standardOutput.contains("crashed"))
    }

    @Test func sampleRefusesAShapeOfTwoToThe62() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("huge-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let header = #"{"unet.conv_in.weight":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}}"#
        try (withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Data($0) } + Data(header.utf8)).write(to: url)
        let run = try ChapterRun("Sample", ["--checkpoint", url.path], addOutput: false)
        expectCleanFailure(run, mentioning: "cannot use \(url.path): \(url.path): not a readable safetensors file: "
                           + "entry 'unet.conv_in.weight': shape [4611686018427387904] of F32 needs more bytes than an Int can count")
    }

    /// A saved epoch of −5 used to train "epochs −4…2" and write `epoch--4.png`.
    @Test func ganRefusesToResumeFromEpochMinusFive() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("GAN-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try SafeTensors(metadata: ["counter.epoch": "-5"]).write(to: folder.appendingPathComponent("dcgan.safetensors"))
        let run = try ChapterRun("GAN", ["--quick", "--resume"], output: folder)
        expectCleanFailure(run, mentioning: "Error: \(folder.path)/dcgan.safetensors: not a readable safetensors file: "
                           + "metadata 'counter.epoch' is '-5'; a saved count is a whole number from 0 to 9007199254740992")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).allSatisfy { !$0.hasPrefix("epoch-") })
    }
}
