import Foundation
import Evaluation
import Testing

@Suite struct ClassCoverageTests {
    let names = (0..<10).map { "class \($0)" }

    @Test func evenLabelsCoverEverythingWithEvennessOne() {
        let coverage = ClassCoverage(labels: (0..<1000).map { $0 % 10 }, classNames: names)
        #expect(coverage.histogram == [Int](repeating: 100, count: 10))
        #expect(coverage.coveredCount == 10 && coverage.sampleCount == 1000)
        #expect(abs(coverage.evenness - 1) < 1e-12)
    }

    @Test func collapseToOneClass() {
        let coverage = ClassCoverage(labels: [Int](repeating: 3, count: 50), classNames: names)
        #expect(coverage.coveredClasses == [3])
        #expect(coverage.evenness == 0)
    }

    @Test func twoEqualClassesHaveEvennessLog2OverLog10() {
        let coverage = ClassCoverage(labels: [1, 7, 1, 7], classNames: names)
        #expect(coverage.coveredClasses == [1, 7])
        #expect(abs(coverage.evenness - log(2) / log(10)) < 1e-12)
    }

    @Test func theTwoPercentRule() {
        // 100 samples: a class with 1 (1%) is not covered, one with 2 (2%) is.
        var labels = [Int](repeating: 0, count: 97)
        labels += [1, 2, 2]
        let coverage = ClassCoverage(labels: labels, classNames: names)
        #expect(coverage.coveredClasses == [0, 2])
        #expect(coverage.ruleDescription.contains("2%"))
        // A stricter rule drops class 2 as well; a rule of 0 counts every class that appears.
        #expect(ClassCoverage(labels: labels, classNames: names, minimumShare: 0.05).coveredClasses == [0])
        #expect(ClassCoverage(labels: labels, classNames: names, minimumShare: 0).coveredClasses == [0, 1, 2])
    }

    @Test func skewedHistogramByHand() {
        // Shares ½, ¼, ¼: H = 1.5 bits; evenness = 1.5·log 2 / log 10.
        let coverage = ClassCoverage(histogram: [2, 1, 1, 0, 0, 0, 0, 0, 0, 0], classNames: names)
        #expect(abs(coverage.evenness - 1.5 * log(2) / log(10)) < 1e-12)
        #expect(coverage.coveredCount == 3)
    }

    @Test func noSamples() {
        let coverage = ClassCoverage(labels: [], classNames: names)
        #expect(coverage.coveredCount == 0 && coverage.evenness == 0 && coverage.sampleCount == 0)
    }
}
