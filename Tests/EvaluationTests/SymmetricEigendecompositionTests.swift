import Foundation
import Evaluation
import TensorCore
import Testing

/// A random symmetric matrix with entries in [-1, 1].
func randomSymmetric(_ n: Int, seed: UInt64) -> SquareMatrix {
    var generator = RandomGenerator(seed: seed)
    var matrix = SquareMatrix.zeros(n)
    for i in 0..<n { for j in i..<n {
        let value = generator.nextUniform() * 2 - 1
        matrix[i, j] = value
        matrix[j, i] = value
    } }
    return matrix
}

/// A random orthogonal matrix, built without the routine under test: Gram–Schmidt on random vectors.
func randomRotation(_ n: Int, seed: UInt64) -> SquareMatrix {
    var generator = RandomGenerator(seed: seed)
    var columns: [[Double]] = []
    while columns.count < n {
        var v = (0..<n).map { _ in generator.nextNormal() }
        for u in columns {
            let dot = zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }
            v = zip(v, u).map { $0 - dot * $1 }
        }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        columns.append(v.map { $0 / norm })
    }
    var matrix = SquareMatrix.zeros(n)
    for (j, column) in columns.enumerated() { for i in 0..<n { matrix[i, j] = column[i] } }
    return matrix
}

func largestDifference(_ a: SquareMatrix, _ b: SquareMatrix) -> Double {
    zip(a.values, b.values).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

@Suite struct SymmetricEigendecompositionTests {
    @Test func diagonalMatrixGivesItsDiagonalSorted() {
        let result = SymmetricEigendecomposition(.diagonal([3, -1, 2, 0]))
        #expect(result.eigenvalues == [-1, 0, 2, 3])
        #expect(result.sweeps == 0)
        // The eigenvectors are the unit vectors, reordered.
        #expect(result.eigenvectors[1, 0] == 1 && result.eigenvectors[3, 1] == 1 && result.eigenvectors[2, 2] == 1 && result.eigenvectors[0, 3] == 1)
    }

    @Test func twoByTwoByHand() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3, eigenvectors (1, −1)/√2 and (1, 1)/√2.
        let result = SymmetricEigendecomposition(SquareMatrix(size: 2, values: [2, 1, 1, 2]))
        #expect(abs(result.eigenvalues[0] - 1) < 1e-15 && abs(result.eigenvalues[1] - 3) < 1e-15)
        let v = result.eigenvectors
        #expect(abs(abs(v[0, 1]) - 0.5.squareRoot()) < 1e-15 && abs(v[0, 1] - v[1, 1]) < 1e-15)
        #expect(abs(v[0, 0] + v[1, 0]) < 1e-15)
    }

    @Test func rotatedDiagonalGivesBackItsEigenvalues() {
        let n = 12
        let eigenvalues = (0..<n).map { Double($0) * 0.75 - 2 }             // −2 … 6.25, one of them 0.25
        let rotation = randomRotation(n, seed: 7)
        let matrix = (rotation * SquareMatrix.diagonal(eigenvalues) * rotation.transposed).symmetrized
        let result = SymmetricEigendecomposition(matrix)
        #expect(zip(result.eigenvalues, eigenvalues).allSatisfy { abs($0 - $1) < 1e-12 })
        // Each eigenvector is ± the rotation's column.
        for k in 0..<n {
            let dot = (0..<n).reduce(0.0) { $0 + result.eigenvectors[$1, k] * rotation[$1, k] }
            #expect(abs(abs(dot) - 1) < 1e-10)
        }
    }

    @Test(arguments: [1, 2, 5, 31, 128])
    func reconstructsRandomMatricesWithOrthogonalVectors(size: Int) {
        let matrix = randomSymmetric(size, seed: UInt64(size))
        let result = SymmetricEigendecomposition(matrix)
        let v = result.eigenvectors
        #expect(largestDifference(result.reconstructed(), matrix) < 1e-12 * Double(size))
        #expect(largestDifference(v.transposed * v, .identity(size)) < 1e-12 * Double(size))
        #expect(zip(result.eigenvalues, result.eigenvalues.dropFirst()).allSatisfy { $0 <= $1 })
        // The trace is the sum of the eigenvalues.
        #expect(abs(result.eigenvalues.reduce(0, +) - matrix.trace) < 1e-11 * Double(size))
    }

    @Test func repeatedEigenvaluesAndTheZeroMatrix() {
        let rotation = randomRotation(6, seed: 3)
        let matrix = (rotation * SquareMatrix.diagonal([2, 2, 2, 5, 5, 0]) * rotation.transposed).symmetrized
        let result = SymmetricEigendecomposition(matrix)
        #expect(zip(result.eigenvalues, [0, 2, 2, 2, 5, 5]).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(largestDifference(result.reconstructed(), matrix) < 1e-12)
        let zero = SymmetricEigendecomposition(.zeros(4))
        #expect(zero.eigenvalues == [0, 0, 0, 0] && zero.eigenvectors == .identity(4))
    }

    @Test func squareRootSquaresBack() {
        // A random covariance-like matrix XᵀX/m (positive definite) and a rank-deficient one.
        let x = randomSymmetric(40, seed: 11)
        let positive = (x.transposed * x).symmetrized
        let root = positive.symmetricSquareRoot
        #expect(largestDifference(root * root, positive) < 1e-11)
        #expect(root.asymmetry < 1e-12)
        #expect(SymmetricEigendecomposition(root).eigenvalues.allSatisfy { $0 > 0 })
        let rotation = randomRotation(5, seed: 5)
        let singular = (rotation * SquareMatrix.diagonal([0, 0, 1, 4, 9]) * rotation.transposed).symmetrized
        let singularRoot = singular.symmetricSquareRoot
        #expect(largestDifference(singularRoot, (rotation * SquareMatrix.diagonal([0, 0, 1, 2, 3]) * rotation.transposed)) < 1e-7)
        #expect(largestDifference(SquareMatrix.diagonal([4, 9, 0.25]).symmetricSquareRoot, .diagonal([2, 3, 0.5])) == 0)
    }
}
