"""``baas validate`` (the installed console script, as a subprocess) on files nested deeper than
a topology can ever be: exit status 2, one diagnostic naming the file and the limit, no
traceback. The same limit as the API's (``topology.yamlsafe.MAX_DEPTH``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from topology.yamlsafe import MAX_DEPTH

DEEP = 3000

DOCUMENTS = {
    "deep.json": '{"apiVersion": "baas/v1alpha1", "spec": ' + "[" * DEEP + "]" * DEEP + "}",
    "flow.yaml": "spec: " + "{a: " * DEEP + "b" + "}" * DEEP + "\n",
    "dashes.yaml": "spec:\n  " + "- " * DEEP + "x\n",
    "indented.yaml": "spec:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 300)),
    "just-over.yaml": "spec: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n",
}


def _validate(file: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("baas")
    env = {k: v for k, v in os.environ.items() if k != "BAAS_DEBUG"}
    return subprocess.run(
        [str(script), "validate", str(file)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_deep_file_exits_2_naming_the_file_and_the_limit(tmp_path: Path, name: str) -> None:
    file = tmp_path / name
    file.write_text(DOCUMENTS[name])
    proc = _validate(file)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output[-3000:]
    assert "Traceback" not in output and "RecursionError" not in output
    assert f"{file}:" in proc.stderr
    assert f"nests deeper than {MAX_DEPTH} levels" in proc.stderr


def test_example_still_validates(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "two-orgs.yaml"
    proc = _validate(example)
    assert proc.returncode == 0, proc.stdout + proc.stderr
