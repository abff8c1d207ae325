import Foundation
import TensorCore

/// Which classes a set of samples falls into, by a classifier's verdict: a check for mode collapse
/// that a single FID number can hide.
///
/// The rule: a class is *covered* when at least `minimumShare` of the samples (2% by default, a
/// fifth of the 10% an even spread gives) are classified into it, and at least one is.
/// *Evenness* is the entropy of the class histogram divided by its largest possible value,
/// H(p)/log K with H(p) = −Σ pₖ log pₖ: 1 when every class has the same share, 0 when all samples
/// fall into one class.
public struct ClassCoverage: Sendable, Equatable {
    /// The share of the samples a class needs to count as covered, by default.
    public static let defaultMinimumShare = 0.02

    /// How many samples were classified into each class.
    public let histogram: [Int]
    /// The name of each class.
    public let classNames: [String]
    /// The share of samples a class needs to count as covered.
    public let minimumShare: Double

    /// The coverage of `labels` (each in 0..<classNames.count).
    public init(labels: [Int], classNames: [String], minimumShare: Double = defaultMinimumShare) {
        var histogram = [Int](repeating: 0, count: classNames.count)
        for label in labels {
            require(histogram.indices.contains(label), "ClassCoverage: label \(label) is not one of the \(classNames.count) classes")
            histogram[label] += 1
        }
        self.init(histogram: histogram, classNames: classNames, minimumShare: minimumShare)
    }

    /// The coverage of a class histogram.
    public init(histogram: [Int], classNames: [String], minimumShare: Double = defaultMinimumShare) {
        require(histogram.count == classNames.count && histogram.count >= 2,
                "ClassCoverage: \(histogram.count) counts for \(classNames.count) class names (need at least 2 classes)")
        require(histogram.allSatisfy { $0 >= 0 }, "ClassCoverage: negative count in \(histogram)")
        require(minimumShare >= 0 && minimumShare <= 1, "ClassCoverage: minimum share \(minimumShare) is not in [0, 1]")
        self.histogram = histogram
        self.classNames = classNames
        self.minimumShare = minimumShare
    }

    /// The number of samples.
    public var sampleCount: Int { histogram.reduce(0, +) }
    /// The number of classes.
    public var classCount: Int { histogram.count }

    /// The classes with at least `minimumShare` of the samples (and at least one sample).
    public var coveredClasses: [Int] {
        histogram.indices.filter { histogram[$0] > 0 && Double(histogram[$0]) >= minimumShare * Double(sampleCount) }
    }

    /// How many classes are covered.
    public var coveredCount: Int { coveredClasses.count }

    /// H(p)/log K of the class shares: 1 = perfectly even, 0 = one class only (or no samples).
    public var evenness: Double {
        let total = Double(sampleCount)
        guard total > 0 else { return 0 }
        let entropy = histogram.reduce(0.0) { sum, count in
            guard count > 0 else { return sum }                 // 0·log 0 = 0
            let p = Double(count) / total
            return sum - p * Foundation.log(p)
        }
        return entropy / Foundation.log(Double(classCount))
    }

    /// The rule, in words, for reports.
    /// The classes covered as a table shows them: "9/10".
    public var formattedCount: String { "\(coveredCount)/\(classCount)" }

    /// The evenness as a table shows it, with three decimals.
    public var formattedEvenness: String { String(format: "%.3f", evenness) }

    public var ruleDescription: String {
        "a class counts when at least \(String(format: "%g", minimumShare * 100))% of the samples are classified into it"
    }
}
