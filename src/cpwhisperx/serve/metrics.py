"""The service's Prometheus metrics: jobs by state, stage durations, cache hits, the queue."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from cpwhisperx.jobs import Job, list_jobs

STAGE_SECONDS_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200)


class _JobsCollector(Collector):
    """Jobs under the root by recorded state, read at each scrape (the job directories are the truth)."""

    def __init__(self, root: Path, in_hand: Callable[[str], str | None], queued: Callable[[], int]) -> None:
        self.root = root
        self.in_hand = in_hand
        self.queued = queued

    def collect(self) -> Iterator[GaugeMetricFamily]:
        states: Tally[str] = Tally()
        for job_dir in list_jobs(self.root):
            try:
                job = Job.load(job_dir)
            except (OSError, ValueError):
                states["unreadable"] += 1
                continue
            states[self.in_hand(job.id) or job.record.status] += 1
        jobs = GaugeMetricFamily("cpwx_jobs", "Jobs under the jobs root by state", labels=["state"])
        for state in ("prepared", "queued", "running", "success", "failed", *sorted(set(states) - {"prepared", "queued", "running", "success", "failed"})):
            jobs.add_metric([state], states.get(state, 0))
        yield jobs
        queue = GaugeMetricFamily("cpwx_queue_length", "Runs waiting for a worker")
        queue.add_metric([], self.queued())
        yield queue


class ServiceMetrics:
    def __init__(self, root: Path, in_hand: Callable[[str], str | None], queued: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        self.stage_seconds = Histogram("cpwx_stage_duration_seconds", "Seconds each stage ran", ["stage"],
                                       buckets=STAGE_SECONDS_BUCKETS, registry=self.registry)
        self.cache = Counter("cpwx_stage_cache_lookups", "Stages that looked in the result cache, by answer", ["stage", "result"],
                             registry=self.registry)
        self.runs = Counter("cpwx_runs", "Runs finished by the service's workers, by result", ["result"], registry=self.registry)
        self.registry.register(_JobsCollector(root, in_hand, queued))

    def observe(self, item: dict[str, Any]) -> None:
        if item.get("type") == "stage" and item.get("state") in ("success", "failed") and item.get("seconds") is not None:
            self.stage_seconds.labels(str(item.get("stage"))).observe(float(item["seconds"]))
            if item.get("cache"):
                self.cache.labels(str(item.get("stage")), "hit" if item.get("cache_hit") else "miss").inc()
        elif item.get("type") == "run" and item.get("state") in ("success", "failed"):
            self.runs.labels(str(item["state"])).inc()
