import Datasets
import TensorCore
import Testing

@Suite struct SyntheticShapesTests {
    static let shapes = SyntheticShapes.generate(count: 200, normalization: .zeroToOne, seed: 11)

    /// The bounding box of pixels brighter than 0.5 in image `n` (28 × 28).
    static func inkBox(_ n: Int) -> (width: Int, height: Int)? {
        let values = shapes.images.floats
        var (minX, maxX, minY, maxY) = (28, -1, 28, -1)
        for y in 0..<28 { for x in 0..<28 where values[n * 784 + y * 28 + x] > 0.5 {
            (minX, maxX, minY, maxY) = (min(minX, x), max(maxX, x), min(minY, y), max(maxY, y))
        } }
        return maxX < 0 ? nil : (maxX - minX + 1, maxY - minY + 1)
    }

    @Test func layoutLabelsAndDeterminism() {
        #expect(Self.shapes.images.shape == [200, 1, 28, 28])
        #expect(Self.shapes.labels == (0..<200).map { $0 % 10 })
        #expect(Self.shapes.classNames.count == 10)
        let again = SyntheticShapes.generate(count: 200, normalization: .zeroToOne, seed: 11)
        #expect(again.images.floats == Self.shapes.images.floats)
        let other = SyntheticShapes.generate(count: 200, normalization: .zeroToOne, seed: 12)
        #expect(other.images.floats != Self.shapes.images.floats)
    }

    @Test func everyImageHasInkInsideABlackBorder() {
        let values = Self.shapes.images.floats
        #expect(values.allSatisfy { (0...1).contains($0) })
        for n in 0..<200 {
            let image = values[(n * 784)..<((n + 1) * 784)]
            #expect(image.max()! > 0.6, "image \(n) is blank")
            for i in 0..<28 {
                let border = [image[n * 784 + i], image[n * 784 + 27 * 28 + i], image[n * 784 + i * 28], image[n * 784 + i * 28 + 27]]
                #expect(border.allSatisfy { $0 == 0 }, "image \(n) touches the edge")
            }
        }
    }

    @Test func classesHaveTheirShapes() {
        for n in 0..<200 {
            guard let box = Self.inkBox(n) else { Issue.record("image \(n) has no ink"); continue }
            switch n % 10 {
            case 4: #expect(box.width >= 2 * box.height, "horizontal bar \(box)")
            case 5: #expect(box.height >= 2 * box.width, "vertical bar \(box)")
            case 0, 1, 3, 6, 8, 9: #expect(abs(box.width - box.height) <= 2, "symmetric shape \(n % 10): \(box)")
            default: break
            }
        }
        // A ring's centre is dark, a disc's is bright (image 0 is a circle, image 3 a ring).
        let circle = Self.shapes.filtered(toClass: 0), ring = Self.shapes.filtered(toClass: 3)
        #expect(circle.count == 20 && ring.count == 20)
        func centerBrightness(_ dataset: ImageDataset) -> Float {
            // Brightness at the centre of the ink, averaged over the class.
            let values = dataset.images.floats
            var total: Float = 0
            for n in 0..<dataset.count {
                let image = Array(values[(n * 784)..<((n + 1) * 784)])
                let inked = image.indices.filter { image[$0] > 0.5 }
                let cx = inked.map { $0 % 28 }.reduce(0, +) / inked.count, cy = inked.map { $0 / 28 }.reduce(0, +) / inked.count
                total += image[cy * 28 + cx]
            }
            return total / Float(dataset.count)
        }
        #expect(centerBrightness(circle) > 0.6 && centerBrightness(ring) < 0.2)
    }

    @Test func paddingAndNormalization() {
        let padded = SyntheticShapes.generate(count: 10, normalization: .minusOneToOne, padding: 2, seed: 1)
        #expect(padded.images.shape == [10, 1, 32, 32])
        let values = padded.images.floats
        #expect(values.min()! == -1 && values.max()! <= 1)
        #expect(values[0] == -1 && values[31] == -1)
    }
}
