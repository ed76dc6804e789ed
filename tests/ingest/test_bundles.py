from __future__ import annotations

import io
import zipfile

from services.ingest.bundles import BundleLimits, is_zip, unpack_bundle

LIMITS = BundleLimits(max_members=10, max_member_bytes=10_000, max_total_bytes=30_000, max_ratio=50)


class GbkNamedInfo(zipfile.ZipInfo):
    """A member named the way Chinese Windows zips do: GBK bytes, no UTF-8 flag."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def make_zip(members: dict[str, bytes], *, gbk_names: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members.items():
            info = GbkNamedInfo(name) if gbk_names else zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, data)
    return buffer.getvalue()


def test_gbk_member_names_are_decoded() -> None:
    members = list(unpack_bundle(make_zip({"洪泽区2023年报.txt": b"abc"}, gbk_names=True), LIMITS))
    assert [(m.name, m.data, m.refusal) for m in members] == [("洪泽区2023年报.txt", b"abc", None)]


def test_utf8_names_and_folders_keep_the_base_name() -> None:
    members = list(unpack_bundle(make_zip({"报告/西工区.html": b"<p>x</p>"}), LIMITS))
    assert members[0].name == "西工区.html" and members[0].refusal is None


def test_dangerous_members_are_refused_one_by_one() -> None:
    bundle = make_zip(
        {
            "../../etc/passwd": b"x",
            "/abs.txt": b"x",
            "inner.zip": make_zip({"a.txt": b"a"}),
            "ok.txt": b"fine",
            "bomb.txt": b"0" * 9_000,  # compresses far beyond 50:1
            "big.txt": bytes(range(256)) * 60,  # 15 KB > member limit
        }
    )
    refusals = {m.name: m.refusal for m in unpack_bundle(bundle, LIMITS)}
    assert refusals["ok.txt"] is None
    assert "path traversal" in (refusals["../../etc/passwd"] or "")
    assert "path traversal" in (refusals["/abs.txt"] or "")
    assert "nested zip" in (refusals["inner.zip"] or "")
    assert "zip bomb" in (refusals["bomb.txt"] or "")
    assert "too large" in (refusals["big.txt"] or "")


def test_a_bundle_over_the_member_limit_is_one_refusal() -> None:
    bundle = make_zip({f"{i}.txt": str(i).encode() for i in range(12)})
    members = list(unpack_bundle(bundle, LIMITS))
    assert len(members) == 1
    assert members[0].data is None and "12 files, more than the limit of 10" in (members[0].refusal or "")
    assert all(m.refusal is None for m in unpack_bundle(make_zip({f"{i}.txt": b"x" for i in range(10)}), LIMITS))


def test_a_bundle_is_read_from_a_file_in_place() -> None:
    bundle = io.BytesIO(make_zip({"a.txt": b"a", "b.txt": b"b"}))
    assert is_zip(bundle, "bundle.zip")
    assert [(m.name, m.data) for m in unpack_bundle(bundle, LIMITS)] == [("a.txt", b"a"), ("b.txt", b"b")]


def test_a_broken_zip_is_one_refusal_not_a_crash() -> None:
    members = list(unpack_bundle(b"PK\x03\x04garbage", LIMITS))
    assert len(members) == 1 and "not a readable zip" in (members[0].refusal or "")


def test_office_documents_are_not_bundles() -> None:
    docx = make_zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<w/>"})
    assert not is_zip(docx, "report.docx")
    assert not is_zip(docx, "report.bin")
    assert is_zip(make_zip({"a.txt": b"a"}), "bundle.zip")
