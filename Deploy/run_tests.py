#!/usr/bin/env python3
"""Runs the test bundle's classes side by side in lanes, each lane with a broker of its own.

    Deploy/run_tests.py XCTEST_BUNDLE LANES LOG

Deploy/test.sh calls it after `swift build --build-tests`. Every lane starts a broker
(Deploy/broker.sh on a free port) and takes the next test class from one queue until it is
empty, running each class as its own process of the bundle (`BUNDLE Module.Class`) with
KAFKA_TEST_BOOTSTRAP_SERVERS set to the lane's broker. A class that pauses the broker
(TestBroker.pause) so pauses only its lane's, and a class that crashes its process loses only
itself. The slowest classes go first (``SECONDS``), so no lane is left with one at the end.

Each class's output is printed whole when it ends (lanes never interleave lines) and kept in LOG.
The last line is `tests: P passed, F failed`, summed over the classes; a class whose process
ended without XCTest's summary counts all its tests failed, and so does one still running after
TEST_CLASS_TIMEOUT_SECONDS (default 900), which is killed with every process it started. Exit
status 1 when any failed. Just before that line, each failed class's failures (or, for a crash
without any, its last lines) are printed again (``failure_lines``), so a reader of the output's
tail only still learns why.
"""
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUMMARY = re.compile(r"Executed (\d+) tests?, with (\d+) failures?")
FAILED_CASE = re.compile(r"^Test Case '[^']*' failed", re.MULTILINE)
# Seconds each slow class took in a three-lane run (2026-12-07, two builds running beside it), to
# start the longest first so no lane is left with one at the end. A hint only: a class missing
# here or grown slower changes the order, never what runs. Classes not listed count as 20 s when
# named *SystemTests, else 0.
SECONDS = {
    "BrokerOutageSystemTests": 174, "AdmissionSystemTests": 165, "ResilienceSystemTests": 163,
    "EnrichmentProcessesSystemTests": 144, "PipelineSystemTests": 126, "StageRunnerFailureTests": 104,
    "ProducerConsumerTests": 88, "StageServiceFailureTests": 83, "OperationsIntegrationTests": 67,
    "OperationsSystemTests": 58, "ChaosSystemTests": 58, "CoordinatorHandOverSystemTests": 57,
    "LeadControlIntegrationTests": 51, "RebalanceChargeTests": 50, "StageRunnerTests": 46, "ReadToEndTests": 45,
    "AccountHeatAggregatorTests": 40, "PoolEntryReaderTests": 39, "SearchCompletionSystemTests": 39,
    "AccountHeatSystemTests": 38, "ProgressRetentionPipelineTests": 35, "DuplicateReEnrichSystemTests": 34,
    "CoordinatorGroupJoinTests": 15, "TableFollowerFailureTests": 12,
}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def broker(command, port):
    # Watched by this process: a run stopped from outside (a cancelled CI job) leaves no broker.
    environment = dict(os.environ, BROKER_WATCH_PID=str(os.getpid()))
    subprocess.run(["bash", os.path.join(ROOT, "Deploy/broker.sh"), command, str(port)], check=command == "start",
                   env=environment)


# The process groups of the classes running now: killed when the run itself is stopped.
RUNNING = set()


def run_class(bundle, name, environment, timeout):
    """Runs one class in a process group of its own; one still running after `timeout` seconds
    is killed with everything it started (exit status -9, its tests failed)."""
    process = subprocess.Popen([bundle, name], env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, errors="replace", start_new_session=True)
    RUNNING.add(process.pid)
    try:
        output, _ = process.communicate(timeout=timeout)
        return output, process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return output + f"\nkilled after {timeout} s: the class did not end\n", -9
    finally:
        RUNNING.discard(process.pid)


def stop(signum, _frame):
    """SIGTERM or SIGINT to the run: the classes running are killed with what they started (each
    is a session of its own, which a signal to this process group does not reach), and the
    brokers follow this process out (``broker``)."""
    for group in list(RUNNING):
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
    os._exit(128 + signum)


# Lines that start a failure's account: an XCTest failure (`FILE:LINE: error: ...`), a Swift
# trap or crash, a kill after the class timeout.
FAILURE_START = re.compile(r": error: |Fatal error|Precondition failed|Assertion failed|Program crashed|^killed after")


def failure_lines(output, limit=40, per_failure=12, tail=10):
    """The lines that say why a class failed: each failure (``FAILURE_START``) with the lines
    that follow it up to the next `Test Case` line, at most `per_failure` of them, and for a
    kill the test it was running; without any, the output's last `tail` lines. Log lines (JSON
    objects) are left out; at most `limit` lines."""
    lines, taking, open_case = [], 0, None
    plain = [line for line in output.splitlines() if not line.startswith("{")]
    for line in plain:
        if line.startswith("Test Case"):
            taking = 0
            open_case = line if "' started" in line else None
            continue
        if FAILURE_START.search(line):
            taking = per_failure
            if line.startswith("killed after") and open_case:
                lines.append("running: " + open_case)
        if taking:
            lines.append(line)
            taking -= 1
    if not lines:  # a crash that printed no failure: where it stopped
        lines = [line for line in plain if line.strip()][-tail:]
    return lines[:limit] + ([f"... {len(lines) - limit} more lines"] if len(lines) > limit else [])


def classes(bundle):
    listing = subprocess.run([bundle, "--list-tests"], capture_output=True, text=True, check=True).stdout
    counts = {}
    for line in listing.splitlines():
        if "/" in line and "." in line.split("/")[0]:
            name = line.split("/")[0].strip()
            counts[name] = counts.get(name, 0) + 1
    def estimate(name):
        short = name.split(".")[-1]
        return SECONDS.get(short, 20 if short.endswith("SystemTests") else 0)
    return sorted(counts.items(), key=lambda item: (-estimate(item[0]), item[0])), counts


def main():
    bundle, lanes, log_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    class_timeout = float(os.environ.get("TEST_CLASS_TIMEOUT_SECONDS", "900"))
    ordered, counts = classes(bundle)
    work = queue.Queue()
    for name, _ in ordered:
        work.put(name)
    lock = threading.Lock()
    totals = {"passed": 0, "failed": 0}
    reasons = {}  # failed class: (its exit status, its failure_lines)
    ran = set()
    log = open(log_path, "w")

    def lane(number):
        port = free_port()
        broker("start", port)
        environment = dict(os.environ, KAFKA_TEST_BOOTSTRAP_SERVERS=f"127.0.0.1:{port}")
        try:
            while True:
                try:
                    name = work.get_nowait()
                except queue.Empty:
                    return
                started = time.monotonic()
                output, status = run_class(bundle, name, environment, class_timeout)
                seconds = time.monotonic() - started
                found = SUMMARY.findall(output)
                executed, failures = (int(found[-1][0]), int(found[-1][1])) if found else (counts[name], counts[name])
                # XCTest's "with N failures" counts failed assertions: a test counts once.
                failed_cases = len(set(FAILED_CASE.findall(output)))
                failures = min(failed_cases if found and failed_cases else failures, executed)
                if status != 0 and failures == 0:
                    failures = max(1, executed)  # ended badly after its summary, or without one
                verdict = "passed" if failures == 0 else f"FAILED ({failures} failed, exit {status})"
                with lock:
                    totals["passed"] += executed - min(failures, executed)
                    totals["failed"] += failures
                    ran.add(name)
                    if failures:
                        reasons[name] = (status, failure_lines(output))
                    text = f"== lane {number}: {name}: {verdict} in {seconds:.1f} s\n{output}"
                    sys.stdout.write(text)
                    sys.stdout.flush()
                    log.write(text)
        finally:
            broker("stop", port)

    threads = [threading.Thread(target=lane, args=(n + 1,)) for n in range(lanes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.close()
    not_run = [name for name, _ in ordered if name not in ran]
    if not_run:  # a lane whose broker did not start leaves its classes to the others; none left: say so
        print("not run: " + ", ".join(not_run))
        totals["failed"] += sum(counts[name] for name in not_run)
    for name in sorted(reasons):
        status, lines = reasons[name]
        print(f"== why {name} failed (exit {status}):")
        for line in lines or ["(no output)"]:
            print("  " + line)
    if reasons:
        print("failed classes: " + ", ".join(sorted(reasons)))
    print(f"tests: {totals['passed']} passed, {totals['failed']} failed")
    return 1 if totals["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
