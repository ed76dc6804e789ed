"""Copied text: MinHash/LSH over the narrative sections 一 and 五 (PEER-DUP-TEXT, XY-DUP-TEXT).

Texts are compared after removing digits and years (a copied report changes "2022" to
"2023" and little else), punctuation and whitespace, as sets of 5-character shingles.
Signatures are plain lists of ints so the pipeline can keep them in the DB and rebuild an
index without re-reading any text (`PeerTextIndex.from_signatures`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache

import numpy as np
from datasketch import MinHash, MinHashLSH

from shared.report import Finding, ParsedReport

from .agency import AgencyLevel, normalise_agency_name, to_simplified
from .catalogue import make_finding

NUM_PERM = 128
SCHEME = "affine32"  # datasketch's hashing scheme; stored signatures are only comparable within one
SHINGLE_CHARS = 5
COPY_THRESHOLD = 0.9
# LSH bands are tuned lower than the verdict so near-threshold pairs are not missed; every
# candidate is then confirmed on its full signature.
LSH_THRESHOLD = 0.75
MIN_SHINGLES = 40  # "无" or a two-line section says nothing about copying
COMPARED_SECTIONS = {"1": "一", "5": "五"}

_NON_TEXT = re.compile(r"[^\u4e00-\u9fffA-Za-z]+")
_TRADITIONAL_HINTS = frozenset("開請報國關機區縣數處總務資訊門條應屬與為於這個們實體項發動進產")


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    if _TRADITIONAL_HINTS.intersection(text):
        text = to_simplified(text)
    return _NON_TEXT.sub("", text)  # digits, years, punctuation and spaces go


def shingles(text: str) -> set[bytes]:
    cleaned = _clean(text)
    return {cleaned[i : i + SHINGLE_CHARS].encode() for i in range(len(cleaned) - SHINGLE_CHARS + 1)}


def jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    if len(sa) < MIN_SHINGLES or len(sb) < MIN_SHINGLES:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def text_signature(text: str) -> list[int]:
    """MinHash signature of a narrative text; [] when the text is too short to compare."""
    return list(_signature(text))


@lru_cache(maxsize=8)
def _signature(text: str) -> tuple[int, ...]:
    # Kept for a few texts: the validate stage signs a report's text for its copy buckets,
    # then the copy rule signs the same text again.
    grams = shingles(text)
    if len(grams) < MIN_SHINGLES:
        return ()
    mh = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME, permutations=_permutations())
    mh.update_batch(list(grams))
    return tuple(int(v) for v in mh.hashvalues)


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The seed's permutation parameters, drawn once per process (a new MinHash draws them
    again from the seed: the same numbers, at a cost that showed in the validator's profile)."""
    return MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME).permutations


@cache
def lsh_params() -> tuple[int, int]:
    """(bands, rows) for LSH_THRESHOLD: datasketch integrates false-positive and -negative
    curves to find them (≈ 12 ms), so once per process, not once per document."""
    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
    return lsh.b, lsh.r


def band_buckets(signature: Sequence[int]) -> list[tuple[int, str]]:
    """(band, bucket) of each LSH band of a signature: two texts whose signatures share a
    bucket in some band are candidates, as in MinHashLSH. Stored per document
    (`CopyBucket`), so a copy check looks up its candidates instead of rebuilding an index
    from every report of the year."""
    if not signature:
        return []
    bands, rows = lsh_params()
    values = np.asarray(signature, dtype=np.uint64)
    return [
        (band, hashlib.blake2b(values[band * rows : (band + 1) * rows].tobytes(), digest_size=8).hexdigest())
        for band in range(bands)
    ]


class PeerTextIndex:
    """Narrative texts of one year's reports, for 'is this copied from another agency?'.

    Holds a few dozen signatures (the copy check's nearest candidates), so a query
    compares them all at once with numpy rather than through a MinHashLSH: LSH's own
    candidate test (some band whose rows all agree), then the estimated similarity
    on the whole signature. Building an LSH of 50 signatures for one query cost more than
    the query."""

    def __init__(self, threshold: float = COPY_THRESHOLD) -> None:
        self.threshold = threshold
        self._entries: dict[str, tuple[str, np.ndarray]] = {}  # doc id → (agency, signature)
        self._matrix: np.ndarray | None = None  # the signatures stacked, made on first query

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, doc_id: str, agency: str, text: str) -> list[int]:
        """Index one text; returns its signature (store it to rebuild the index later)."""
        signature = text_signature(text)
        self.add_signature(doc_id, agency, signature)
        return signature

    def add_signature(self, doc_id: str, agency: str, signature: Sequence[int] | None) -> None:
        if not signature or doc_id in self._entries:
            return
        if len(signature) != NUM_PERM:
            raise ValueError(f"signature of {doc_id} has {len(signature)} values, not {NUM_PERM}")
        self._entries[doc_id] = (normalise_agency_name(agency), np.asarray(signature, dtype=np.uint64))
        self._matrix = None

    @classmethod
    def from_signatures(
        cls, entries: Iterable[tuple[str, str, Sequence[int] | None]], threshold: float = COPY_THRESHOLD
    ) -> PeerTextIndex:
        """Rebuild from stored (doc_id, agency, signature) rows without re-shingling."""
        index = cls(threshold)
        for doc_id, agency, signature in entries:
            index.add_signature(doc_id, agency, signature)
        return index

    def similar(self, text: str, exclude_agency: str | None = None) -> list[tuple[str, str, float]]:
        return self.similar_to_signature(text_signature(text), exclude_agency)

    def similar_to_signature(
        self, signature: Sequence[int], exclude_agency: str | None = None
    ) -> list[tuple[str, str, float]]:
        """(doc_id, agency, estimated similarity) of indexed texts at or above the threshold, best first."""
        if not signature or not self._entries:
            return []
        if self._matrix is None:
            self._matrix = np.vstack([values for _, values in self._entries.values()])
        equal = self._matrix == np.asarray(signature, dtype=np.uint64)
        bands, rows = lsh_params()
        candidate = equal[:, : bands * rows].reshape(len(equal), bands, rows).all(axis=2).any(axis=1)
        similarity = equal.mean(axis=1)
        excluded = normalise_agency_name(exclude_agency) if exclude_agency else None
        ids, entries = list(self._entries), list(self._entries.values())
        out = [
            (ids[i], entries[i][0], float(similarity[i]))
            for i in np.flatnonzero(candidate & (similarity >= self.threshold))
            if entries[i][0] != excluded
        ]
        return sorted(out, key=lambda t: -t[2])


def peer_texts(report: ParsedReport) -> dict[str, str]:
    """The sections compared for copying, keyed by section number ("1", "5")."""
    return {n: report.sections[n] for n in COMPARED_SECTIONS if report.sections.get(n)}


def copy_check_text(report: ParsedReport) -> str:
    """The one text per report that goes into a PeerTextIndex: sections 一 and 五 together."""
    return "\n".join(report.sections.get(n, "") for n in COMPARED_SECTIONS)


# --- PEER-DUP-TEXT ------------------------------------------------------------------

PROVINCES = ["北京市", "天津市", "上海市", "重庆市", "河北省", "山西省", "辽宁省", "吉林省", "黑龙江省", "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "海南省", "四川省", "贵州省", "云南省", "陕西省", "甘肃省", "青海省", "台湾省", "内蒙古自治区", "广西壮族自治区", "西藏自治区", "宁夏回族自治区", "新疆维吾尔自治区"]
PROVINCE_ABBREVIATIONS = "京津沪渝冀晋辽吉黑苏浙皖闽赣鲁豫鄂湘粤琼川蜀贵黔云滇陕秦甘陇青藏桂蒙宁新"
# A government's own work rules bind that government only; 涉X舆情 is a province's monitoring duty.
_OWN_RULES = re.compile(r"《(?P<gov>(?:" + "|".join(PROVINCES) + r")人民政府)工作规则》")
_PROVINCIAL_OPINION = re.compile(rf"涉[{PROVINCE_ABBREVIATIONS}]舆情")


def borrowed_measures(text: str, agency: str, level: AgencyLevel | None) -> list[str]:
    """Provincial-government measures presented as its own by a county or township body."""
    if level not in ("county", "township"):
        return []
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    own = normalise_agency_name(agency)
    hits = [m.group(0) for m in _OWN_RULES.finditer(text) if m.group("gov").removesuffix("人民政府") not in own]
    hits += [m.group(0) for m in _PROVINCIAL_OPINION.finditer(text)]
    return list(dict.fromkeys(hits))


def check_peer_copies(
    report: ParsedReport, peers: PeerTextIndex | None, level: AgencyLevel | None
) -> list[Finding]:
    texts = peer_texts(report)
    zh_parts, en_parts = [], []
    if peers is not None:
        for doc_id, agency, sim in peers.similar(copy_check_text(report), exclude_agency=report.agency)[:3]:
            zh_parts.append(f"第一、五部分与{agency}（{doc_id}）的报告相似度{sim:.2f}")
            en_parts.append(f"sections 一/五 are {sim:.2f} similar to {agency}'s report ({doc_id})")
    borrowed = borrowed_measures(" ".join(texts.values()), report.agency or "", level)
    if borrowed:
        listed = "、".join(borrowed)
        zh_parts.append(f"文中将上级政府的{listed}作为本机关措施")
        en_parts.append(f"presents a higher government's own measures ({listed}) as the agency's")
    if not zh_parts:
        return []
    # A near-copy of another body's report may not be this body's report: a person judges. A
    # higher government's measures quoted as its own changes no number: next year's guidance.
    copied = len(zh_parts) > (1 if borrowed else 0)
    return [make_finding("PEER-DUP-TEXT", "；".join(zh_parts), "; ".join(en_parts), severity=None if copied else "notice")]


def check_copied_from_last_year(report: ParsedReport, previous: ParsedReport) -> list[Finding]:
    zh_parts, en_parts = [], []
    for number, text in peer_texts(report).items():
        before = previous.sections.get(number)
        if not before:
            continue
        sim = jaccard(text, before)
        if sim >= COPY_THRESHOLD:
            zh_parts.append(f"第{COMPARED_SECTIONS[number]}部分与{previous.year}年报告相似度{sim:.2f}")
            en_parts.append(f"section {number} is {sim:.2f} similar to the {previous.year} report")
    if not zh_parts:
        return []
    return [make_finding("XY-DUP-TEXT", "；".join(zh_parts), "; ".join(en_parts))]
