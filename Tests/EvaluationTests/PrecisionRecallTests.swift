import Datasets
import Evaluation
import Foundation
import NeuralNetworks
import Testing

/// Precision and recall: worked out by hand on points of a line, then on real Fashion-MNIST
/// features, where real images, a single class and noise must each behave as the metric promises.
@Suite struct PrecisionRecallTests {
    /// One feature per point, as a `[N, 1]` matrix.
    private func points(_ values: [Double]) -> Tensor { Tensor(values, shape: [values.count, 1], dtype: .float64) }

    @Test func ballsOfTheKthNeighbourByHand() throws {
        // Real points 0…4: with k = 1 every ball has radius 1. Generated 2.5, 10, 4.9: their own balls
        // reach the nearest other generated point, radii 2.4, 5.1, 2.4.
        let score = try PrecisionRecall(real: points([0, 1, 2, 3, 4]), generated: points([2.5, 10, 4.9]), k: 1)
        #expect(score.precision == 2.0 / 3)        // 2.5 and 4.9 lie in a real ball, 10 does not
        #expect(score.recall == 4.0 / 5)           // 1…4 lie in the ball of 2.5 (or 4.9); 0 is 2.5 from it
        #expect(score.realCount == 5 && score.generatedCount == 3 && score.k == 1)
        // A point exactly on a ball's edge is inside it; k = 2 widens every real ball to radius 2 (the ends') or 1.
        #expect(try PrecisionRecall(real: points([0, 1, 2, 3, 4]), generated: points([5, 6, 7]), k: 1).precision == 1.0 / 3)
        #expect(try PrecisionRecall(real: points([0, 1, 2, 3, 4]), generated: points([5, 6, 7]), k: 2).precision == 2.0 / 3)
    }

    @Test func setsTooSmallOrOfDifferentWidthsAreRefused() {
        #expect(throws: EvaluationError.tooFewSamples(3)) { try PrecisionRecall(real: points([0, 1, 2, 3]), generated: points([0, 1, 2])) }
        #expect(throws: EvaluationError.self) {
            try PrecisionRecall(real: points([0, 1, 2, 3]), generated: Tensor.zeros([4, 2], dtype: .float64))
        }
    }

    @Test func realImagesOneClassAndNoise() throws {
        let evaluator = try Evaluator.standard()
        let test = try FashionMNIST.load(.test, padding: 2, limit: 1000)
        let training = try FashionMNIST.load(.train, padding: 2, limit: 3000)
        let real = try evaluator.features(of: test.images)
        // Other real images: both near 1 (0.89 and 0.89 measured).
        let other = try PrecisionRecall(real: real, generated: evaluator.features(of: training.prefix(1000).images))
        #expect(other.precision > 0.8 && other.recall > 0.8, "\(other.line)")
        // Real images of one class (trousers): realistic, but they cover a tenth of the variety.
        let trousers = try PrecisionRecall(real: real, generated: evaluator.features(of: training.filtered(toClass: 1).images))
        #expect(trousers.precision > 0.8 && trousers.recall < 0.25, "\(trousers.line)")
        // Uniform noise: nothing like a garment.
        var generator = RandomGenerator(seed: 0)
        let noise = Tensor.randomUniform([500, 1, 32, 32], low: -1, high: 1, using: &generator)
        let noisy = try PrecisionRecall(real: real, generated: evaluator.features(of: noise))
        #expect(noisy.precision < 0.05 && noisy.recall < 0.05, "\(noisy.line)")
        // The evaluator's own entry point compares with as many real test images.
        let viaEvaluator = try evaluator.precisionRecall(of: training.prefix(400).images)
        #expect(viaEvaluator.realCount == 400 && viaEvaluator.generatedCount == 400 && viaEvaluator.precision > 0.7)
    }
}
