import Foundation

/// librdkafka statistics documents written by hand after its STATISTICS.md, for parsing tests.
public enum StatisticsSamples {
    /// A group consumer: a learned broker that is up, a bootstrap one that is down, the internal
    /// and logical pseudo-brokers, an assigned partition with a known lag, one with an unknown
    /// lag, one not assigned, and the unassigned pseudo-partition.
    public static let consumer = """
    {
      "name": "scoring-stage#consumer-2", "client_id": "scoring-stage", "type": "consumer",
      "ts": 5123456789, "time": 1764560000, "age": 60000000,
      "replyq": 3, "msg_cnt": 0, "msg_size": 0, "msg_max": 100000, "msg_size_max": 1073741824,
      "tx": 812, "tx_bytes": 90211, "rx": 810, "rx_bytes": 120933, "txmsgs": 0, "rxmsgs": 250,
      "brokers": {
        "127.0.0.1:9092/bootstrap": {
          "name": "127.0.0.1:9092/bootstrap", "nodeid": -1, "nodename": "127.0.0.1:9092", "source": "configured",
          "state": "DOWN", "stateage": 59000000, "outbuf_cnt": 0, "outbuf_msg_cnt": 0, "waitresp_cnt": 0,
          "txerrs": 0, "txretries": 0, "req_timeouts": 0, "rxerrs": 0, "disconnects": 1,
          "rtt": { "min": 0, "max": 0, "avg": 0, "sum": 0, "cnt": 0, "p50": 0, "p99": 0 }
        },
        "broker-1:9092/1": {
          "name": "broker-1:9092/1", "nodeid": 1, "nodename": "broker-1:9092", "source": "learned",
          "state": "UP", "stateage": 58000000, "outbuf_cnt": 2, "outbuf_msg_cnt": 0, "waitresp_cnt": 4,
          "txerrs": 7, "txretries": 3, "req_timeouts": 5, "rxerrs": 6, "disconnects": 2,
          "rtt": { "min": 300, "max": 9000, "avg": 1500, "sum": 150000, "cnt": 100, "p50": 1200, "p99": 8000 },
          "toppars": { "leads.scored-0": { "topic": "leads.scored", "partition": 0 } }
        },
        ":0/internal": {
          "name": ":0/internal", "nodeid": -1, "nodename": "", "source": "internal", "state": "UP",
          "outbuf_cnt": 0, "waitresp_cnt": 0, "txerrs": 0, "rxerrs": 0, "req_timeouts": 0,
          "rtt": { "avg": 0, "p99": 0 }
        },
        "GroupCoordinator": {
          "name": "GroupCoordinator", "nodeid": 1, "nodename": "broker-1:9092", "source": "logical", "state": "UP",
          "outbuf_cnt": 0, "waitresp_cnt": 1, "txerrs": 0, "rxerrs": 0, "req_timeouts": 0,
          "rtt": { "avg": 900, "p99": 2000 }
        }
      },
      "topics": {
        "leads.scored": {
          "topic": "leads.scored", "age": 58000, "metadata_age": 1000,
          "partitions": {
            "0": { "partition": 0, "broker": 1, "leader": 1, "desired": true, "unknown": false,
                   "fetch_state": "active", "committed_offset": 95, "hi_offset": 100, "consumer_lag": 5 },
            "1": { "partition": 1, "broker": 1, "leader": 1, "desired": true, "unknown": false,
                   "fetch_state": "offset-query", "committed_offset": -1001, "hi_offset": -1, "consumer_lag": -1 },
            "2": { "partition": 2, "broker": 1, "leader": 1, "desired": false, "unknown": false,
                   "fetch_state": "none", "committed_offset": 10, "hi_offset": 40, "consumer_lag": 30 },
            "-1": { "partition": -1, "broker": -1, "leader": -1, "desired": false, "unknown": false,
                    "fetch_state": "none", "consumer_lag": -1 }
          }
        }
      },
      "cgrp": {
        "state": "up", "stateage": 57000, "join_state": "steady", "rebalance_age": 42500,
        "rebalance_cnt": 3, "rebalance_reason": "group rejoin", "assignment_size": 2
      }
    }
    """

    /// A producer with messages queued and one broker.
    public static let producer = """
    {
      "name": "coordinator#producer-1", "client_id": "coordinator", "type": "producer",
      "replyq": 0, "msg_cnt": 12, "msg_size": 3456,
      "brokers": {
        "127.0.0.1:9092/1": {
          "name": "127.0.0.1:9092/1", "nodeid": 1, "source": "learned", "state": "UP",
          "outbuf_cnt": 0, "waitresp_cnt": 1, "txerrs": 0, "rxerrs": 0, "req_timeouts": 0, "disconnects": 0,
          "rtt": { "avg": 250, "p99": 700 }
        }
      },
      "topics": {
        "leads.discovered": { "partitions": { "0": { "partition": 0, "desired": false, "consumer_lag": -1 } } }
      }
    }
    """
}
