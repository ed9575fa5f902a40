"""The Ray engine on a local cluster of two worker slots: the 8 films of `batch_throughput.py`, one
actor killed mid-batch, and what that cost.

    .venv/bin/python benchmarks/batch_throughput.py     # first: the films and the separate runs' transcripts
    .venv/bin/python benchmarks/batch_ray.py [--storage shared|ship] [--work DIR]

Starts a Ray head on 127.0.0.1 (2 CPUs), runs `cpwx batch --engine ray` on the films, kills the
actor of the first film whose speech recognition is running, and prints: whether all 8 completed,
how many transcripts match those of the separate `cpwx transcribe` runs, and, per film, its
attempts and the stages each of its runs did (from the job's pipeline logs). `--storage ship`
sends every film through Ray's object store (BATCH_RAY_STORAGE=ship), as for nodes that do not
mount the batch's storage.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import transcript_text

STAGE_STARTED = re.compile(r"stage \d\d (\w+): started")


def start_head() -> tuple[str, str, str]:
    ray = shutil.which("ray", path=str(Path(sys.executable).parent))
    if ray is None:
        raise SystemExit("Ray is not installed: pip install 'cp-whisperx[ray]'")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    subprocess.run([ray, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", "2", "--num-gpus", "0",
                    "--include-dashboard", "false", "--temp-dir", temp, "--disable-usage-stats"], check=True, capture_output=True)
    return ray, f"127.0.0.1:{port}", temp


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cpwx-bench-batch"))
    parser.add_argument("--storage", choices=("shared", "ship"), default="shared")
    args = parser.parse_args()
    reference_file = args.work / "serial_transcripts.json"
    if not reference_file.is_file():
        raise SystemExit(f"{reference_file} is missing: run benchmarks/batch_throughput.py first")
    reference = json.loads(reference_file.read_text(encoding="utf-8"))
    manifest = args.work / "films" / "films.csv"
    ray, address, temp = start_head()
    workdir = args.work / f"ray-{time.strftime('%Y%m%d-%H%M%S')}"
    workdir.mkdir(parents=True)
    try:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "cpwhisperx", "batch", str(manifest), "--engine", "ray", "--address", address,
                                    "--set", "CACHE_ENABLED=false", "--set", f"BATCH_RAY_STORAGE={args.storage}"], cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        killed = None
        while killed is None and process.poll() is None:
            for record_path in (workdir / "out" / "batches").glob("*/batch.json"):
                for entry in json.loads(record_path.read_text(encoding="utf-8"))["films"]:
                    asr = Path(entry.get("job_dir") or "/nonexistent") / "06_asr" / "manifest.json"
                    if entry["state"] == "running" and asr.is_file() and json.loads(asr.read_text(encoding="utf-8"))["status"] == "running":
                        killed = entry
                        os.kill(int(re.search(r"pid (\d+)", entry["worker"]).group(1)), signal.SIGKILL)
                        print(f"killed {entry['worker']} while {entry['name']} was in its speech recognition")
                        break
                if killed:
                    break
            time.sleep(0.1)
        stdout, stderr = process.communicate()
        elapsed = time.perf_counter() - started
    finally:
        subprocess.run([ray, "stop", "--force"], capture_output=True, check=False)
        shutil.rmtree(temp, ignore_errors=True)
    if process.returncode != 0:
        raise SystemExit(f"cpwx batch --engine ray failed ({process.returncode}):\n{stdout}\n{stderr}")
    (record_path,) = (workdir / "out" / "batches").glob("*/batch.json")
    record = json.loads(record_path.read_text(encoding="utf-8"))
    done = [e for e in record["films"] if e["state"] == "success"]
    same = sum(transcript_text(Path(e["job_dir"])) == reference[e["name"]] for e in done)
    print(f"Ray engine, {record['workers']} actors × {record['threads_per_worker']} thread: {len(done)}/{len(record['films'])} films "
          f"complete in {elapsed:.1f} s; identical transcripts to the separate runs: {same}/{len(reference)}")
    for entry in record["films"]:
        runs = [STAGE_STARTED.findall(p.read_text(encoding="utf-8")) for p in sorted((Path(entry["job_dir"]) / "logs").glob("99_pipeline_*.log"))]
        print(f"  {entry['name']}: {entry['attempts']} attempt(s); stages run: " + " | then: ".join(", ".join(r) for r in runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
