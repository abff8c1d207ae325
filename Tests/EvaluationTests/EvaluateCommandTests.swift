import Datasets
import Foundation
import Evaluation
import ImageIO
import Testing
import TestSupport

/// The `Evaluate` executable, run as a reader would run it.
@Suite struct EvaluateCommandTests {
    /// Runs Evaluate with the book's classifier.
    func evaluate(_ arguments: [String]) throws -> ProcessRun { try ProcessRun(product: "Evaluate", arguments) }

    @Test func scoresAFolderOfRealImages() throws {
        let count = 300
        let folder = try Fixtures.testImageFolder(count: count)
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = try evaluate(["--samples", folder.path])
        #expect(text.status == 0, "\(text.standardError)")
        let lines = text.standardOutput.split(separator: "\n").map(String.init)
        let fidLine = try #require(lines.first { $0.hasPrefix("FID-FMNIST: ") })
        #expect(lines.contains { $0.hasPrefix("Coverage: 10/10 classes") })
        #expect(lines.contains { $0.hasPrefix("Evenness: ") })
        #expect(lines.contains { $0.hasPrefix("Precision and recall in the classifier's feature space: precision 0.") && $0.hasSuffix("300 real images)") })

        let json = try evaluate(["--samples", folder.path, "--json"])
        #expect(json.status == 0, "\(json.standardError)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let fid = try #require(object["fid_fmnist"] as? Double)
        #expect(object["sample_count"] as? Int == count && object["classes_covered"] as? Int == 10)
        let precision = try #require(object["precision"] as? Double), recall = try #require(object["recall"] as? Double)
        #expect((0...1).contains(precision) && (0...1).contains(recall) && object["precision_recall_real_count"] as? Int == count)
        #expect(fidLine.contains(String(format: "%.3f", fid)))
        // The command scores exactly what the library scores for the same images.
        let expected = try Fixtures.standardEvaluator().score(try FashionMNIST.load(.test, limit: count).images)
        #expect(abs(fid - expected.fid) < 1e-9 * max(1, expected.fid))
    }

    @Test func realImagesAndNoise() throws {
        let clean = try evaluate(["--real", "400", "--json"])
        let noisy = try evaluate(["--real", "400", "--noise", "0.4", "--json"])
        #expect(clean.status == 0 && noisy.status == 0, "\(clean.standardError)\(noisy.standardError)")
        func fid(_ run: ProcessRun) throws -> Double {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any])
            return try #require(object["fid_fmnist"] as? Double)
        }
        #expect(try fid(noisy) > 2 * fid(clean))
    }

    @Test func aMissingFolderFails() throws {
        let run = try evaluate(["--samples", "/nonexistent/samples-folder"])
        #expect(run.status != 0)
        #expect(run.standardError.contains("/nonexistent/samples-folder: no such folder"))
        #expect(run.standardOutput.isEmpty)
    }

    @Test func anEmptyFolderFails() throws {
        let folder = try Fixtures.temporaryFolder("empty-samples")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("notes".utf8).write(to: folder.appendingPathComponent("readme.txt"))
        let run = try evaluate(["--samples", folder.path])
        #expect(run.status != 0)
        #expect(run.standardError.contains("holds no .png files"))
    }

    @Test func anUnreadablePNGIsNamed() throws {
        let folder = try Fixtures.temporaryFolder("bad-samples")
        defer { try? FileManager.default.removeItem(at: folder) }
        try PNG.write(Bitmap(width: 28, height: 28, channels: 1), to: folder.appendingPathComponent("a-good.png"))
        try Data("this is not a PNG".utf8).write(to: folder.appendingPathComponent("b-broken.png"))
        let run = try evaluate(["--samples", folder.path])
        #expect(run.status != 0)
        #expect(run.standardError.contains("b-broken.png: unreadable PNG"), "\(run.standardError)")
    }

    @Test func anImageOfAnotherSizeIsNamed() throws {
        let folder = try Fixtures.temporaryFolder("odd-samples")
        defer { try? FileManager.default.removeItem(at: folder) }
        try PNG.write(Bitmap(width: 28, height: 28, channels: 3), to: folder.appendingPathComponent("fine.png"))
        try PNG.write(Bitmap(width: 64, height: 48, channels: 1), to: folder.appendingPathComponent("large.png"))
        let run = try evaluate(["--samples", folder.path])
        #expect(run.status != 0)
        #expect(run.standardError.contains("large.png: image is 64×48"), "\(run.standardError)")
    }

    @Test func exactlyOneSourceIsRequired() throws {
        #expect(try evaluate([]).status != 0)
        let both = try evaluate(["--samples", "/tmp", "--real", "10"])
        #expect(both.status != 0 && both.standardError.contains("exactly one of --samples"))
    }
}
