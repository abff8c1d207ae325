import TensorCore

/// A mini-batch: some samples and their labels.
public struct Batch: @unchecked Sendable {
    /// The samples, `[B, …]` (images `[B, C, H, W]`, points `[B, 2]`).
    public let images: Tensor
    /// The label of each sample (empty when the data has no labels).
    public let labels: [Int]
    /// Which samples of the dataset these are.
    public let indices: [Int]

    /// The number of samples in the batch.
    public var count: Int { indices.count }
}

/// Cuts a dataset into mini-batches, in a fresh random order each epoch.
///
/// The order of epoch `e` depends only on the loader's `seed` and `e`: a run that resumes at
/// epoch 7 sees exactly the batches it would have seen without the interruption.
///
/// ```swift
/// let loader = DataLoader(dataset, batchSize: 64, seed: 42)
/// for epoch in 0..<epochs {
///     for batch in loader.batches(epoch: epoch) { … batch.images … }   // [64, 1, 32, 32]
/// }
/// ```
public struct DataLoader: @unchecked Sendable {
    /// All samples, `[N, …]`.
    public let samples: Tensor
    /// The label of each sample, or empty.
    public let labels: [Int]
    /// Samples per batch.
    public let batchSize: Int
    /// Whether each epoch visits the samples in a new random order (otherwise 0, 1, 2, …).
    public let shuffle: Bool
    /// Whether a last, smaller batch is left out (so every batch has `batchSize` samples).
    public let dropLast: Bool
    /// The seed the per-epoch orders derive from.
    public let seed: UInt64

    /// A loader over `samples` (`[N, …]`) with optional `labels` (empty, or one per sample).
    public init(samples: Tensor, labels: [Int] = [], batchSize: Int, shuffle: Bool = true,
                dropLast: Bool = false, seed: UInt64 = 0) {
        require(samples.rank >= 1, "DataLoader: samples must have a first (sample) axis")
        require(batchSize >= 1, "DataLoader: batchSize must be at least 1, got \(batchSize)")
        require(labels.isEmpty || labels.count == samples.shape[0],
                "DataLoader: \(samples.shape[0]) samples but \(labels.count) labels")
        (self.samples, self.labels, self.batchSize) = (samples, labels, batchSize)
        (self.shuffle, self.dropLast, self.seed) = (shuffle, dropLast, seed)
    }

    /// A loader over the images and labels of `dataset`.
    public init(_ dataset: ImageDataset, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false, seed: UInt64 = 0) {
        self.init(samples: dataset.images, labels: dataset.labels, batchSize: batchSize,
                  shuffle: shuffle, dropLast: dropLast, seed: seed)
    }

    /// The number of samples.
    public var sampleCount: Int { samples.shape[0] }

    /// Batches per epoch.
    public var batchCount: Int {
        dropLast ? sampleCount / batchSize : (sampleCount + batchSize - 1) / batchSize
    }

    /// The order in which epoch `epoch` visits the samples: a permutation of 0..<N.
    public func order(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<sampleCount) }
        // Mix the epoch into the seed (SplitMix's odd constant), so nearby seeds and epochs
        // give unrelated streams.
        var generator = RandomGenerator(seed: seed ^ (UInt64(truncatingIfNeeded: epoch) &+ 1) &* 0x9E37_79B9_7F4A_7C15)
        return generator.permutation(sampleCount)
    }

    /// The batches of epoch `epoch`, built one at a time as they are visited.
    public func batches(epoch: Int) -> EpochBatches {
        EpochBatches(loader: self, order: order(epoch: epoch))
    }

    /// Batch `index` of epoch `epoch`: what a training that runs step by step (and may resume
    /// inside an epoch) reads. The epoch's order is kept until another epoch is asked for.
    public func batch(_ index: Int, ofEpoch epoch: Int) -> Batch {
        if recent.epoch != epoch { (recent.epoch, recent.order) = (epoch, order(epoch: epoch)) }
        return EpochBatches(loader: self, order: recent.order)[index]
    }

    /// The order of the epoch `batch(_:ofEpoch:)` read last, so that each step does not shuffle again.
    private final class RecentOrder { var epoch = -1, order: [Int] = [] }
    private let recent = RecentOrder()

    /// The batches of one epoch: a collection whose elements are assembled on access.
    public struct EpochBatches: RandomAccessCollection, @unchecked Sendable {
        let loader: DataLoader
        /// The epoch's order of sample indices.
        public let order: [Int]

        public var startIndex: Int { 0 }
        public var endIndex: Int { loader.batchCount }

        /// Batch `position` of the epoch.
        public subscript(position: Int) -> Batch {
            require(indices.contains(position), "EpochBatches: batch \(position) out of range 0..<\(endIndex)")
            let start = position * loader.batchSize
            let chosen = Array(order[start..<Swift.min(start + loader.batchSize, order.count)])
            return Batch(images: gatherSamples(loader.samples, chosen),
                         labels: loader.labels.isEmpty ? [] : chosen.map { loader.labels[$0] },
                         indices: chosen)
        }
    }
}
