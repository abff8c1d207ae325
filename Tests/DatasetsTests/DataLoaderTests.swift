import Datasets
import TensorCore
import Testing

@Suite struct DataLoaderTests {
    /// 10 one-pixel "images" whose value is their index, labelled index % 3.
    static let tiny = ImageDataset(images: Tensor((0..<10).map(Float.init), shape: [10, 1, 1, 1]),
                                   labels: (0..<10).map { $0 % 3 }, classNames: ["a", "b", "c"], name: "tiny")

    @Test func sameSeedAndEpochGiveTheSameOrder() {
        let a = DataLoader(Self.tiny, batchSize: 4, seed: 7), b = DataLoader(Self.tiny, batchSize: 4, seed: 7)
        #expect(a.order(epoch: 3) == b.order(epoch: 3))
        #expect(a.batches(epoch: 3).map(\.indices) == b.batches(epoch: 3).map(\.indices))
        // Different epochs and different seeds shuffle differently.
        let orders = (0..<5).map { a.order(epoch: $0) }
        #expect(Set(orders.map { $0.description }).count == 5)
        #expect(DataLoader(Self.tiny, batchSize: 4, seed: 8).order(epoch: 3) != a.order(epoch: 3))
    }

    @Test func everySampleAppearsOncePerEpoch() {
        let big = ImageDataset(images: Tensor.zeros([1000, 1, 2, 2]), labels: [Int](repeating: 0, count: 1000),
                               classNames: ["x"], name: "big")
        let loader = DataLoader(big, batchSize: 64, seed: 1)
        for epoch in 0..<3 {
            let seen = loader.batches(epoch: epoch).flatMap(\.indices)
            #expect(seen.sorted() == Array(0..<1000))
            #expect(seen != Array(0..<1000))
        }
    }

    @Test func dropLastCounts() {
        let keep = DataLoader(Self.tiny, batchSize: 3, dropLast: false)
        #expect(keep.batchCount == 4)
        #expect(keep.batches(epoch: 0).map(\.count) == [3, 3, 3, 1])
        let drop = DataLoader(Self.tiny, batchSize: 3, dropLast: true)
        #expect(drop.batchCount == 3)
        #expect(drop.batches(epoch: 0).map(\.count) == [3, 3, 3])
        #expect(drop.batches(epoch: 0).allSatisfy { $0.images.shape == [3, 1, 1, 1] })
        #expect(DataLoader(Self.tiny, batchSize: 20, dropLast: true).batchCount == 0)
        #expect(DataLoader(Self.tiny, batchSize: 5, dropLast: true).batchCount == 2)
    }

    @Test func batchesCarryTheRightImagesAndLabels() {
        let loader = DataLoader(Self.tiny, batchSize: 4, seed: 3)
        for batch in loader.batches(epoch: 1) {
            #expect(batch.images.floats == batch.indices.map(Float.init))     // the value is the index
            #expect(batch.labels == batch.indices.map { $0 % 3 })
        }
        let ordered = DataLoader(Self.tiny, batchSize: 4, shuffle: false)
        #expect(ordered.batches(epoch: 9).map(\.indices) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
    }

    @Test func worksOnUnlabelledPoints() {
        var generator = RandomGenerator(seed: 0)
        let points = ToyDistribution.eightGaussians.sample(100, using: &generator)     // [100, 2]
        let loader = DataLoader(samples: points, batchSize: 32, seed: 2)
        let batches = loader.batches(epoch: 0)
        #expect(batches.count == 4 && batches[0].images.shape == [32, 2] && batches[3].images.shape == [4, 2])
        #expect(batches[0].labels.isEmpty)
        let all = points.floats
        let first = batches[0]
        #expect(first.images.floats == first.indices.flatMap { [all[2 * $0], all[2 * $0 + 1]] })
        // float64 data is gathered as float64.
        let doubles = DataLoader(samples: points.converted(to: .float64), batchSize: 10)
        #expect(doubles.batches(epoch: 0)[0].images.dtype == .float64)
    }

    @Test func subsets() {
        let first = Self.tiny.prefix(4)
        #expect(first.count == 4 && first.images.floats == [0, 1, 2, 3] && first.labels == [0, 1, 2, 0])
        #expect(Self.tiny.prefix(50).count == 10)
        let classB = Self.tiny.filtered(toClass: 1)
        #expect(classB.labels == [1, 1, 1] && classB.images.floats == [1, 4, 7])
        #expect(classB.name.contains("b"))
        let picked = Self.tiny.subset([9, 0])
        #expect(picked.images.floats == [9, 0] && picked.labels == [0, 0])
    }
}
