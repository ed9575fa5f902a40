"""The job's QC report: per-language rule compliance, worst offenders, speakers and a timeline picture."""

from cpwhisperx.qc.report import write_qc_report

__all__ = ["write_qc_report"]
