import Foundation

/// The broker's process on this machine, found by the port it listens on, so that its CPU time
/// can be read beside the pipelines' (the local broker shares their two cores).
struct BrokerProcess {
    let pid: Int32

    /// The process listening on the TCP port of `bootstrap` (`host:port`), or nil when none on
    /// this machine is (a remote broker) or it cannot be told (no access to its descriptors).
    static func listening(on bootstrap: String) -> BrokerProcess? {
        guard let portText = bootstrap.split(separator: ",").first?.split(separator: ":").last,
              let port = UInt16(portText),
              let inode = listeningSocketInode(port: port) else { return nil }
        let target = "socket:[\(inode)]"
        let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in processes {
            guard let pid = Int32(entry),
                  let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(entry)/fd") else { continue }
            for descriptor in descriptors
            where (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/fd/\(descriptor)")) == target {
                return BrokerProcess(pid: pid)
            }
        }
        return nil
    }

    /// CPU seconds the broker has used since it started; nil once it is gone.
    func cpuSeconds() -> Double? { PipelineRun.cpuSeconds(pid: pid) }

    /// The inode of the socket listening on `port`, from `/proc/net/tcp` and `tcp6`: each line
    /// after the header is `sl local rem st ... uid timeout inode ...`, the local address
    /// `HEXADDR:HEXPORT`, state `0A` listening.
    private static func listeningSocketInode(port: UInt16) -> String? {
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 9, fields[3] == "0A",
                      let localPort = fields[1].split(separator: ":").last.flatMap({ UInt16($0, radix: 16) }),
                      localPort == port else { continue }
                return String(fields[9])
            }
        }
        return nil
    }
}
