import Foundation

/// Finds the executables of this package that tests run the way a reader would.
public enum BuiltProduct {
    /// The executable `product`: beside the test bundle or one folder up (SwiftPM's layouts on Linux
    /// and macOS), else under the package's `.build/debug` or `.build/release`.
    public static func url(_ product: String) throws -> URL {
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [products, products.deletingLastPathComponent()].map { $0.appendingPathComponent(product) }
        guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) })
                ?? searchBuildFolder(product) else {
            throw BuiltProductError(problem: "cannot find the \(product) executable near \(products.path)")
        }
        return executable
    }

    private static func searchBuildFolder(_ product: String) -> URL? {
        var directory = URL(fileURLWithPath: #filePath)
        while directory.path != "/" {
            directory.deleteLastPathComponent()
            for configuration in ["debug", "release"] {
                let url = directory.appendingPathComponent(".build/\(configuration)/\(product)")
                if FileManager.default.isExecutableFile(atPath: url.path) { return url }
            }
        }
        return nil
    }
}

/// An executable the tests need was not built.
public struct BuiltProductError: Error, CustomStringConvertible {
    public let problem: String
    public var description: String { problem }
}
