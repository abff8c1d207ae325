import Foundation
import TensorCore

/// Ways to spoil images on purpose, to see a quality metric rise as quality falls.
public enum Degradation: Sendable, Equatable {
    /// Adds Gaussian noise with this standard deviation (in [-1, 1] units), then clamps to [-1, 1].
    case gaussianNoise(standardDeviation: Double)
    /// Blurs with a Gaussian kernel of this standard deviation in pixels (beyond the border the
    /// image continues as black background).
    case gaussianBlur(sigma: Double)

    /// `images` (`[N, C, H, W]` in [-1, 1]) degraded; noise is drawn from `generator`.
    public func apply(to images: Tensor, using generator: inout RandomGenerator) -> Tensor {
        require(images.rank == 4, "Degradation: expected [N, C, H, W] images, got \(images.shape)")
        return withoutGradients {
            switch self {
            case .gaussianNoise(let deviation):
                require(deviation >= 0, "Degradation: noise standard deviation must not be negative, got \(deviation)")
                let noise = Tensor.randomNormal(images.shape, standardDeviation: deviation, dtype: images.dtype, using: &generator)
                return (images + noise).clamped(min: -1, max: 1)
            case .gaussianBlur(let sigma):
                require(sigma > 0, "Degradation: blur sigma must be positive, got \(sigma)")
                let radius = max(1, Int((3 * sigma).rounded(.up)))
                let bell = (-radius...radius).map { Foundation.exp(-Double($0 * $0) / (2 * sigma * sigma)) }
                let total = bell.reduce(0, +)
                let kernel = bell.map { $0 / total }
                // Separable: a row pass, then a column pass, each channel on its own.
                let channels = images.shape[1]
                let framed = images.padded([(0, 0), (0, 0), (radius, radius), (radius, radius)], value: -1)
                let taps = 2 * radius + 1
                var weights = [Double](repeating: 0, count: channels * channels * taps)   // [C, C, taps]: diagonal in channels
                for c in 0..<channels {
                    for (k, weight) in kernel.enumerated() { weights[(c * channels + c) * taps + k] = weight }
                }
                let rows = framed.conv2d(weight: Tensor(weights, shape: [channels, channels, 1, taps], dtype: images.dtype))
                return rows.conv2d(weight: Tensor(weights, shape: [channels, channels, taps, 1], dtype: images.dtype))
            }
        }
    }
}
