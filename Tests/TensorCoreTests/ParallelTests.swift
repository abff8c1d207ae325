import Foundation
import Synchronization
import Testing
@testable import TensorCore

/// `Parallel.forEach` runs every task exactly once and returns only when all have run: job after
/// job (the workers watching or asleep between them), from several callers at once, nested, and
/// with more threads than cores.
@Suite(.serialized) struct ParallelTests {
    /// Runs `jobs` jobs of `tasks` tasks each and checks that each task ran once per job, and that
    /// every job's writes are visible when `forEach` returns.
    private func runJobs(_ jobs: Int, tasks: Int, pauseMicroseconds: UInt32 = 0) {
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: tasks)
        defer { counts.deallocate() }
        let box = SendableBox(counts)
        for job in 0..<jobs {
            counts.initialize(repeating: 0, count: tasks)
            Parallel.forEach(tasks) { task in box.value[task] += 1 }
            let wrong = (0..<tasks).filter { counts[$0] != 1 }
            #expect(wrong.isEmpty, "job \(job): tasks \(wrong.prefix(5)) ran \(wrong.prefix(5).map { counts[$0] }) times")
            if pauseMicroseconds > 0 { usleep(pauseMicroseconds) }
        }
    }

    @Test func everyTaskRunsOnceJobAfterJob() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        for threads in [2, 3, 5] {
            Parallel.threadCount = threads
            runJobs(2_000, tasks: 7)
            runJobs(200, tasks: 2)
            runJobs(50, tasks: 1_000)
        }
    }

    /// Long enough between jobs that the workers go to sleep and must be woken.
    @Test func workersWakeFromSleep() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 2
        let pause = UInt32(WorkerPool.sleepAfterNanoseconds / 1_000) * 2
        runJobs(20, tasks: 4, pauseMicroseconds: pause)
    }

    /// Callers on several threads at once: one gets the workers, the others run their tasks
    /// themselves, and no task of one job leaks into another.
    @Test func concurrentCallersEachGetTheirOwnTasks() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 2
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            let tasks = 64 + caller
            let counts = UnsafeMutablePointer<Int>.allocate(capacity: tasks)
            defer { counts.deallocate() }
            let box = SendableBox(counts)
            for _ in 0..<500 {
                counts.initialize(repeating: 0, count: tasks)
                Parallel.forEach(tasks) { task in box.value[task] += caller + 1 }
                if (0..<tasks).contains(where: { counts[$0] != caller + 1 }) { failures.add(1, ordering: .relaxed) }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
    }

    /// Inside a task, `forEach` runs its own tasks on that thread.
    @Test func nestedCallsRunInline() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 2
        let (outer, inner) = (6, 5)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: outer * inner)
        defer { counts.deallocate() }
        counts.initialize(repeating: 0, count: outer * inner)
        let box = SendableBox(counts)
        let moved = Atomic<Int>(0)
        Parallel.forEach(outer) { i in
            let thread = pthread_self()
            Parallel.forEach(inner) { j in
                if pthread_equal(thread, pthread_self()) == 0 { moved.add(1, ordering: .relaxed) }
                box.value[i * inner + j] += 1
            }
        }
        #expect(moved.load(ordering: .relaxed) == 0, "nested tasks ran on another thread")
        #expect((0..<outer * inner).allSatisfy { counts[$0] == 1 })
    }
}
