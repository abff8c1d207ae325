import NeuralNetworks

/// Average pooling over `size`×`size` windows as a layer (the tensor core's `avgPool2d`).
public final class AveragePool: Layer {
    /// The side of the window, which is also the stride.
    public let size: Int
    public var isTraining = true
    /// Pools `size`×`size` windows, halving the image for size 2.
    public init(size: Int) { self.size = size }
    /// `[N, C, H, W]` → `[N, C, H/size, W/size]`.
    public func callAsFunction(_ input: Tensor) -> Tensor { input.avgPool2d(kernel: size) }
}
