"""Mermaid, vendored at build time from the npm registry: the built site never loads a CDN.

The lock below is the exact package the docs are built and checked with (the browser check
renders every Mermaid diagram with it). The first build runs ``npm pack`` for that version,
checks the tarball against the lock's sha512 integrity, and keeps ``dist/mermaid.min.js``
(and the licence) in ``docs/_vendor/`` (ignored by git: a build artefact, 3.5 MB); later
builds reuse it offline. ``ETATMACHINE_MERMAID_JS=/path/to/mermaid.min.js`` uses a copy of
your own instead (for a machine without npm).

To move to another version: ``npm view mermaid@VERSION dist.integrity``, update the lock,
rebuild, and run the browser check (``python docs/browser_check.py docs/_build/html``).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "mermaid"
VERSION = "11.17.2"
INTEGRITY = (  # npm view mermaid@11.17.2 dist.integrity
    "sha512-V6K3C8EBdEsPFZXSKMJe6ppQOENxuHARr9GvHX4hh47lAbhMRD9qf4oEK7LoaRQxULMa80/qt5gHO73aCleBBg=="
)
MEMBERS = {"package/dist/mermaid.min.js": "mermaid.min.js", "package/LICENSE": "LICENSE"}


class MermaidUnavailable(RuntimeError):
    """The Mermaid script could not be obtained: the message says what to do."""


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def vendor_dir(docs: Path) -> Path:
    """Where the vendored script lives: ``docs/_vendor/mermaid-VERSION/``."""
    return docs / "_vendor" / f"{PACKAGE}-{VERSION}"


def ensure(docs: Path) -> Path:
    """The folder holding ``mermaid.min.js`` for this build (fetched once with npm)."""
    own = os.environ.get("ETATMACHINE_MERMAID_JS")
    if own:
        script = Path(own)
        if not script.is_file():
            raise MermaidUnavailable(f"ETATMACHINE_MERMAID_JS={own}: no such file")
        folder = docs / "_vendor" / "own"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(script, folder / "mermaid.min.js")
        return folder
    folder = vendor_dir(docs)
    if (folder / "mermaid.min.js").is_file():
        return folder
    npm = shutil.which("npm")
    if npm is None:
        raise MermaidUnavailable(
            f"the docs need {PACKAGE}@{VERSION} and npm is missing: install npm "
            "(Debian: apt-get install npm) or set ETATMACHINE_MERMAID_JS=/path/to/mermaid.min.js"
        )
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [npm, "pack", f"{PACKAGE}@{VERSION}", "--silent"],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        tarballs = list(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or len(tarballs) != 1:
            why = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no tarball"]
            raise MermaidUnavailable(f"npm pack {PACKAGE}@{VERSION} failed: {why[0]}")
        data = tarballs[0].read_bytes()
        if _integrity(data) != INTEGRITY:
            raise MermaidUnavailable(
                f"{tarballs[0].name} does not match the lock in docs/_ext/docs_mermaid.py"
            )
        staging = Path(tmp) / "out"
        staging.mkdir()
        with tarfile.open(tarballs[0]) as tar:
            for member, name in MEMBERS.items():
                source = tar.extractfile(member)
                if source is None:
                    raise MermaidUnavailable(f"{tarballs[0].name} has no {member}")
                (staging / name).write_bytes(source.read())
        folder.parent.mkdir(parents=True, exist_ok=True)
        (folder.parent / ".gitignore").write_text(
            "# vendored at docs build time by docs/_ext/docs_mermaid.py\n*\n", encoding="utf-8"
        )
        shutil.rmtree(folder, ignore_errors=True)
        shutil.move(str(staging), folder)
    return folder


INIT_JS = """\
// Renders the <pre class="mermaid"> blocks of the page with the vendored Mermaid.
window.addEventListener("DOMContentLoaded", function () {
  if (!window.mermaid || !document.querySelector("pre.mermaid")) { return; }
  window.mermaid.initialize({
    startOnLoad: false,
    securityLevel: "loose",
    theme: "neutral",
    fontFamily: "DejaVu Sans, Verdana, sans-serif",
    themeVariables: { fontSize: "14px" },
    flowchart: { htmlLabels: true, useMaxWidth: true, nodeSpacing: 18, rankSpacing: 70 }
  });
  window.mermaid.run({ querySelector: "pre.mermaid" }).then(function () {
    document.body.setAttribute("data-mermaid", "done");
  }, function (error) {
    document.body.setAttribute("data-mermaid", "error: " + ((error && error.message) || error));
  });
});
"""
