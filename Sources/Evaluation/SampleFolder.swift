import Foundation
import ImageIO
import TensorCore

/// A folder of sample images, as a generator writes them: every `.png` file directly inside it.
public enum SampleFolder {
    /// Reads every `.png` in `folder` (sorted by name; other files and sub-folders are ignored) as
    /// one `[N, 1, 32, 32]` float32 tensor in [-1, 1]. Gray files are read as they are, colour files
    /// are converted to gray (0.299 R + 0.587 G + 0.114 B), and 28×28 images are framed with 2
    /// pixels of black.
    /// - Throws: ``EvaluationError`` when the folder is missing or holds no PNG, naming the file
    ///   that cannot be decoded or that is neither 28×28 nor 32×32.
    public static func load(_ folder: URL) throws -> (images: Tensor, files: [URL]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) else {
            throw EvaluationError.missingFolder(folder.path)
        }
        guard isDirectory.boolValue else { throw EvaluationError.notAFolder(folder.path) }
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.isRegularFileKey],
                                                                 options: [.skipsHiddenFiles])
            .filter { $0.pathExtension.lowercased() == "png" && (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        guard !files.isEmpty else { throw EvaluationError.emptyFolder(folder.path) }
        let side = 32
        var values = [Float](repeating: -1, count: files.count * side * side)      // [N, 1, 32, 32], black
        for (index, file) in files.enumerated() {
            let bitmap: Bitmap
            do { bitmap = try PNG.read(from: file) } catch let error as ImageIOError {
                throw EvaluationError.unreadableImage(file: file.path, reason: error.problem)
            }
            guard (bitmap.width == 28 && bitmap.height == 28) || (bitmap.width == 32 && bitmap.height == 32) else {
                throw EvaluationError.wrongImageSize(file: file.path, width: bitmap.width, height: bitmap.height)
            }
            let margin = (side - bitmap.width) / 2
            for y in 0..<bitmap.height {
                for x in 0..<bitmap.width {
                    let (r, g, b) = bitmap.rgb(x: x, y: y)
                    let gray = bitmap.channels == 1 ? Float(r) : 0.299 * Float(r) + 0.587 * Float(g) + 0.114 * Float(b)
                    values[(index * side + y + margin) * side + x + margin] = gray / 127.5 - 1
                }
            }
        }
        return (Tensor(values, shape: [files.count, 1, side, side]), files)
    }
}
