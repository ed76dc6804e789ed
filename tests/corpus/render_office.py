"""PDF and DOC reports: the filled template converted by LibreOffice, as Word/WPS exports are.

LibreOffice is slow to start, so conversions run in batches: one `soffice` call per target
format for all files of a corpus build.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import tempfile
from pathlib import Path

# A private profile: a user's running LibreOffice (or another build) must not lock ours.
PROFILE = "file:///tmp/lo_corpus"
# One soffice at a time on that profile: test processes running side by side share it.
PROFILE_LOCK = Path("/tmp/lo_corpus.lock")
TIMEOUT_SECONDS = 600


def soffice_available() -> bool:
    return shutil.which("soffice") is not None


# LibreOffice's export filter per target, where the extension alone does not name it.
FILTERS = {"doc": "doc:MS Word 97", "xls": "xls:MS Excel 97"}


def convert_batch(docx_files: dict[str, bytes], target: str, source_suffix: str = "docx") -> dict[str, bytes]:
    """Convert {stem: docx (or `source_suffix`) bytes} to `target` ("pdf", "doc", "xls");
    returns {stem: converted bytes}."""
    if not docx_files:
        return {}
    if not soffice_available():
        raise RuntimeError("soffice (LibreOffice) is not installed")
    with tempfile.TemporaryDirectory(prefix="corpus_lo_") as work:
        source, output = Path(work, "in"), Path(work, "out")
        source.mkdir()
        for stem, data in docx_files.items():
            (source / f"{stem}.{source_suffix}").write_bytes(data)
        command = [
            "soffice",
            f"-env:UserInstallation={PROFILE}",
            "--headless",
            "--norestore",
            "--convert-to",
            FILTERS.get(target, target),
            "--outdir",
            str(output),
            *sorted(str(p) for p in source.iterdir()),
        ]
        with PROFILE_LOCK.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            subprocess.run(command, check=True, timeout=TIMEOUT_SECONDS, capture_output=True)
        converted = {stem: output / f"{stem}.{target}" for stem in docx_files}
        missing = [stem for stem, path in converted.items() if not path.exists()]
        if missing:
            raise RuntimeError(f"LibreOffice did not convert {missing}")
        return {stem: path.read_bytes() for stem, path in converted.items()}
