import Foundation
import Runtime
import XCTest

final class ThreadNameTests: XCTestCase {
    /// A thread that names itself shows the name in the kernel (`comm`, what top and perf read),
    /// cut to the 15 bytes Linux keeps.
    func testNamesTheCallingThreadInTheKernel() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/proc/thread-self/comm"), "no /proc (not Linux)")
        let names = Names()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            nameCurrentThread("named-by-test")
            let short = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
            nameCurrentThread("a-name-longer-than-fifteen-bytes")
            let long = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
            names.value = [short, long]
            done.signal()
        }
        thread.start()
        done.wait()
        XCTAssertEqual(names.value, ["named-by-test\n", "a-name-longer-t\n"])
    }
}

/// What the named thread read; written before it signals, read after the wait.
private final class Names: @unchecked Sendable {
    var value: [String] = []
}
