"""`import cpwhisperx` and `cpwx --help` load no heavy library."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "ctranslate2", "faster_whisper", "onnxruntime", "transformers")
PROBE = """
import sys
{body}
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})
print('HEAVY:' + ','.join(heavy))
"""


def loaded_after(body: str) -> list[str]:
    code = PROBE.format(body=body, heavy=HEAVY)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("HEAVY:"), result.stdout
    return [m for m in line.removeprefix("HEAVY:").split(",") if m]


def test_import_loads_nothing_heavy() -> None:
    assert loaded_after("import cpwhisperx") == []


def test_help_loads_nothing_heavy() -> None:
    body = "from cpwhisperx.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    assert loaded_after(body) == []
    body = "from cpwhisperx.cli import main\ntry:\n    main(['transcribe', '--help'])\nexcept SystemExit:\n    pass"
    assert loaded_after(body) == []
