import Foundation
import Notebook

/// The verdict on a set of samples: FID-FMNIST and class coverage, with what they were measured by.
public struct SampleScore: Sendable, Equatable {
    /// FID-FMNIST: the Fréchet distance of the samples' classifier features to the real test images'.
    public let fid: Double
    /// Which classes the samples fall into.
    public let coverage: ClassCoverage
    /// How many samples were scored (FID depends on it: compare equal counts).
    public let sampleCount: Int
    /// The classifier configuration's name (`standard` for the book's FID-FMNIST).
    public let classifierName: String
    /// The classifier's accuracy on the real test images, in [0, 1].
    public let classifierTestAccuracy: Double

    /// A score from its parts.
    public init(fid: Double, coverage: ClassCoverage, sampleCount: Int, classifierName: String, classifierTestAccuracy: Double) {
        self.fid = fid
        self.coverage = coverage
        self.sampleCount = sampleCount
        self.classifierName = classifierName
        self.classifierTestAccuracy = classifierTestAccuracy
    }

    /// FID-FMNIST as a table shows it, with two decimals.
    public var formattedFID: String { String(format: "%.2f", fid) }

    /// The score as lines for a reader: `FID-FMNIST: 1.234`, the coverage, the evenness, then the
    /// class histogram.
    public var lines: [String] {
        var lines = [String(format: "FID-FMNIST: %.3f", fid)]
        if classifierName != ClassifierConfiguration.standard.name {
            lines[0] += " (with the '\(classifierName)' classifier: not comparable with the standard FID-FMNIST)"
        }
        lines.append("Coverage: \(coverage.coveredCount)/\(coverage.classCount) classes (\(coverage.ruleDescription))")
        lines.append(String(format: "Evenness: %.3f (normalised entropy of the class histogram; 1 = perfectly even)", coverage.evenness))
        let width = coverage.classNames.map(\.count).max() ?? 0
        for (name, count) in zip(coverage.classNames, coverage.histogram) {
            let share = coverage.sampleCount > 0 ? Double(count) / Double(coverage.sampleCount) * 100 : 0
            lines.append("  " + name.padded(toWidth: width) + String(format: " %6d  %5.1f%%", count, share))
        }
        return lines
    }

    /// The score as a JSON-ready dictionary.
    public var jsonObject: [String: Any] {
        [
            "fid_fmnist": fid,
            "sample_count": sampleCount,
            "classes_covered": coverage.coveredCount,
            "class_count": coverage.classCount,
            "coverage_rule": coverage.ruleDescription,
            "minimum_class_share": coverage.minimumShare,
            "evenness": coverage.evenness,
            "class_histogram": Dictionary(uniqueKeysWithValues: zip(coverage.classNames, coverage.histogram)),
            "classifier": classifierName,
            "classifier_test_accuracy": classifierTestAccuracy,
        ]
    }

    /// The score as one line of JSON (sorted keys).
    public var json: String {
        String(decoding: try! JSONSerialization.data(withJSONObject: jsonObject, options: [.sortedKeys]), as: UTF8.self)
    }
}
