import Datasets
import Foundation
import NeuralNetworks
import Notebook

/// Trains the FID-FMNIST classifier: cross-entropy, Adam with a half-cosine learning-rate decay,
/// batch order and initial weights from the configuration's seed. The same configuration and data
/// on the same machine give the same weights, bit for bit.
public enum ClassifierTraining {
    /// A freshly initialised classifier trained on `dataset` (`[N, 1, 32, 32]` images in [-1, 1],
    /// labels 0…9) as `configuration` says. Leaves the classifier in evaluation mode.
    ///
    /// Each epoch shows a progress bar made by `progress` (label, steps): a chapter passes its
    /// notebook's, so the bars reach its transcript; the default draws them on standard error.
    public static func train(_ configuration: ClassifierConfiguration, on dataset: ImageDataset,
                             progress: (_ label: String, _ total: Int) -> ProgressBar = { ProgressBar(label: $0, total: $1) })
        throws -> FashionClassifier {
        try configuration.validate()
        guard dataset.imageShape == [1, FashionClassifier.imageSize, FashionClassifier.imageSize] else {
            throw EvaluationError.wrongTensorShape(dataset.images.shape)
        }
        let data = configuration.trainingImages.map { dataset.prefix($0) } ?? dataset
        let batchSize = configuration.batchSize
        let epochs = configuration.epochs
        let learningRate = configuration.learningRate

        var generator = RandomGenerator(seed: configuration.seed)
        let model = FashionClassifier(widths: configuration.widths, featureCount: configuration.featureCount, using: &generator)
        let optimizer = Adam(model.parameters, learningRate: learningRate)
        // dropLast: a final batch of one image would break batch normalisation.
        let loader = DataLoader(data, batchSize: batchSize, dropLast: true, seed: configuration.seed)
        let totalSteps = loader.batchCount * epochs

        model.train()
        var step = 0
        for epoch in 0..<epochs {
            var lossSum = 0.0
            let bar = progress("classifier, epoch \(epoch + 1)/\(epochs)", loader.batchCount)
            for (index, batch) in loader.batches(epoch: epoch).enumerated() {
                let images = configuration.mirrorImages ? mirrored(batch.images, using: &generator) : batch.images  // [B, 1, 32, 32]
                // Half-cosine decay from the starting rate to zero over the whole run.
                optimizer.learningRate = learningRate * 0.5 * (1 + cos(Double.pi * Double(step) / Double(totalSteps)))
                let loss = crossEntropy(model(images), labels: batch.labels)
                optimizer.zeroGrad()
                loss.backward()
                optimizer.step()
                step += 1
                lossSum += loss.item
                bar.advance(metrics: [("loss", lossSum / Double(index + 1))])
            }
            bar.finish()
        }
        model.eval()
        return model
    }

    /// The batch with each image mirrored left–right with probability ½ (modified in place: a
    /// loader's batch is a fresh copy).
    static func mirrored(_ images: Tensor, using generator: inout RandomGenerator) -> Tensor {
        let (n, planeCount, height, width) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        images.withElements(Float.self) { values in
            for sample in 0..<n where generator.nextUniform() < 0.5 {
                for plane in 0..<planeCount {
                    for row in 0..<height {
                        let start = ((sample * planeCount + plane) * height + row) * width
                        var (left, right) = (start, start + width - 1)
                        while left < right { values.swapAt(left, right); left += 1; right -= 1 }
                    }
                }
            }
        }
        return images
    }
}
