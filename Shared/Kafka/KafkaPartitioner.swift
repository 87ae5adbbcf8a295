/// The Java Kafka client's default partitioner, so `leadctl` finds the partition a key was
/// written to and the coordinator can tell a record published to another partition than its
/// key's. The project's producers set `partitioner=murmur2_random`, which is this same function
/// for records with a key.
public enum KafkaPartitioner {
    /// MurmurHash2 (32-bit) with the seed `0x9747b28c`, exactly as
    /// `org.apache.kafka.common.utils.Utils.murmur2` computes it.
    public static func murmur2(_ bytes: [UInt8]) -> Int32 {
        let seed: UInt32 = 0x9747_b28c
        let m: UInt32 = 0x5bd1_e995
        let r: UInt32 = 24
        let length = bytes.count
        var h: UInt32 = seed ^ UInt32(truncatingIfNeeded: length)

        let blocks = length / 4
        for block in 0..<blocks {
            let i = block * 4
            // Little-endian 4-byte blocks.
            var k = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
            k = k &* m
            k ^= k >> r
            k = k &* m
            h = h &* m
            h ^= k
        }

        let tail = blocks * 4
        switch length % 4 {
        case 3:
            h ^= UInt32(bytes[tail + 2]) << 16
            h ^= UInt32(bytes[tail + 1]) << 8
            h ^= UInt32(bytes[tail])
            h = h &* m
        case 2:
            h ^= UInt32(bytes[tail + 1]) << 8
            h ^= UInt32(bytes[tail])
            h = h &* m
        case 1:
            h ^= UInt32(bytes[tail])
            h = h &* m
        default:
            break
        }

        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// The partition of a keyed record: `(murmur2(key) & 0x7fffffff) % partitionCount`.
    /// - Precondition: `partitionCount > 0`.
    public static func partition(forKey key: [UInt8], partitionCount: Int) -> Int32 {
        precondition(partitionCount > 0, "a topic has at least one partition")
        let positive = Int(murmur2(key) & 0x7fff_ffff)
        return Int32(positive % partitionCount)
    }

    /// The partition of a record keyed by the UTF-8 bytes of `key`.
    public static func partition(forKey key: String, partitionCount: Int) -> Int32 {
        partition(forKey: Array(key.utf8), partitionCount: partitionCount)
    }
}
