"""Graphviz's ``dot`` turning DOT text into SVG, with errors that say what to install."""

from __future__ import annotations

import shutil
import subprocess

from etatmachine.errors import EtatmachineError

__all__ = ["GraphvizError", "GraphvizNotFound", "dot_to_svg"]


class GraphvizError(EtatmachineError, RuntimeError):
    """Graphviz's ``dot`` failed to turn a diagram into SVG."""


class GraphvizNotFound(GraphvizError):
    """The ``dot`` binary is missing: SVG needs Graphviz installed on the machine."""

    def __init__(self) -> None:
        super().__init__(
            "Graphviz's `dot` program was not found on PATH: SVG diagrams need it. "
            "Install Graphviz (Debian/Ubuntu: `apt-get install graphviz`; macOS: "
            "`brew install graphviz`), or ask for `mermaid` or `dot` text instead."
        )


def dot_to_svg(source: str, *, timeout: float = 60.0) -> str:
    """Any DOT text laid out by Graphviz as SVG (`GraphvizNotFound` without ``dot``)."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFound()
    try:
        done = subprocess.run(
            [exe, "-Tsvg"],
            input=source.encode(),
            capture_output=True,
            check=False,
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GraphvizError(f"running {exe} failed: {exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise GraphvizError(f"{exe} -Tsvg exited with {done.returncode}: {message}")
    return done.stdout.decode()
