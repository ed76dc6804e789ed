"""Copy-check cost against the size of the archive (issue 12): the candidates of a new
report come from the stored LSH buckets (`copybucket`), so the check should cost the same
with 1,000 or 20,000 reports of the year; the former way (every same-year signature read
and indexed) is timed beside it.

    python bench/copy_check.py [--sizes 1000,5000,20000] [--database-url sqlite:///…]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlmodel import Session, SQLModel, col, select  # noqa: E402

from services.validator.copied_text import NUM_PERM, PeerTextIndex, band_buckets  # noqa: E402
from services.validator.tasks import STANDING, _peer_index  # noqa: E402
from shared.db import make_engine  # noqa: E402
from shared.models import CopyBucket, Document, Status, Upload  # noqa: E402

YEAR = 2025


def fill(session: Session, count: int, rng: random.Random) -> None:
    session.add(Upload(id="bench"))
    session.flush()
    for index in range(count):
        signature = [rng.getrandbits(32) for _ in range(NUM_PERM)]
        doc = Document(
            upload_id="bench", filename=f"{index}.txt", size=1, sha256=f"{index:064d}", storage_key="x",
            agency_key=f"局{index}", agency_norm=f"局{index}", year=YEAR, status=Status.published,
            text_signature=signature,
        )
        session.add(doc)
        session.flush()
        assert doc.id is not None
        session.add_all(CopyBucket(year=YEAR, band=b, bucket=h, document_id=doc.id) for b, h in band_buckets(signature))
    session.commit()


def rebuild_everything(session: Session, doc: Document) -> PeerTextIndex:
    """The former way: every same-year signature, indexed for one query."""
    rows = session.exec(
        select(Document.id, Document.agency_norm, Document.text_signature).where(
            Document.year == doc.year, Document.id != doc.id, col(Document.status).in_(STANDING)
        )
    ).all()
    return PeerTextIndex.from_signatures((str(i), a or "", s) for i, a, s in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,5000,20000")
    parser.add_argument("--queries", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(7)
    print(f"{'reports of the year':>20} {'buckets: ms/check':>18} {'rebuild: ms/check':>18}")
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{folder}/bench.db")
            SQLModel.metadata.create_all(engine)
            with Session(engine) as session:
                fill(session, size, rng)
                probe = Document(
                    upload_id="bench", filename="new.txt", size=1, sha256="f" * 64, storage_key="x",
                    agency_norm="新局", year=YEAR, text_signature=[rng.getrandbits(32) for _ in range(NUM_PERM)],
                )
                start = time.perf_counter()
                for _ in range(args.queries):
                    _peer_index(session, probe)
                buckets = (time.perf_counter() - start) / args.queries * 1000
                start = time.perf_counter()
                for _ in range(max(1, args.queries // 5)):
                    rebuild_everything(session, probe)
                rebuild = (time.perf_counter() - start) / max(1, args.queries // 5) * 1000
            engine.dispose()
        print(f"{size:20d} {buckets:18.2f} {rebuild:18.1f}")


if __name__ == "__main__":
    main()
