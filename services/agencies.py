"""The agency registry and aliases that ops maintain: who reports to which government,
and which old names mean a current agency. Read by the validate and publish stages."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable

from sqlmodel import Session, select

from services.validator import normalise_agency_name
from shared.models import AgencyAlias, RegisteredAgency


def load_aliases(session: Session) -> dict[str, str]:
    return {row.alias: row.canonical for row in session.exec(select(AgencyAlias))}


def set_alias(session: Session, alias: str, canonical: str) -> None:
    aliases = load_aliases(session)
    key = normalise_agency_name(alias)
    row = session.get(AgencyAlias, key) or AgencyAlias(alias=key, canonical="")
    row.canonical = normalise_agency_name(canonical, aliases)
    session.add(row)


def read_registry_csv(text: str) -> list[tuple[str, str]]:
    """Rows of (government, agency) from a CSV with those two columns (header optional)."""
    rows = [r for r in csv.reader(io.StringIO(text)) if len(r) >= 2 and r[0].strip() and r[1].strip()]
    if rows and rows[0][0].strip().lower() in ("government", "政府", "所属政府"):
        rows = rows[1:]
    return [(government.strip(), agency.strip()) for government, agency, *_ in rows]


def import_registry(session: Session, rows: Iterable[tuple[str, str]]) -> int:
    """Add or update registry entries; an agency belongs to one government at a time."""
    aliases = load_aliases(session)
    count = 0
    for government, agency in rows:
        name_norm = normalise_agency_name(agency, aliases)
        entry = session.get(RegisteredAgency, name_norm) or RegisteredAgency(
            name_norm=name_norm, name="", government=""
        )
        entry.name, entry.government = agency, normalise_agency_name(government, aliases)
        session.add(entry)
        count += 1
    return count


def government_of(session: Session, agency_norm: str | None) -> str | None:
    if not agency_norm:
        return None
    entry = session.get(RegisteredAgency, agency_norm)
    return entry.government if entry is not None else None


def members_of(session: Session, government_norm: str) -> list[RegisteredAgency]:
    return list(session.exec(select(RegisteredAgency).where(RegisteredAgency.government == government_norm)))


def expected_by_government(session: Session) -> dict[str, list[str]]:
    """government → the agencies that must report to it (for the portal's coverage page)."""
    expected: dict[str, list[str]] = defaultdict(list)
    for entry in session.exec(
        select(RegisteredAgency).order_by(RegisteredAgency.government, RegisteredAgency.name)
    ):
        expected[entry.government].append(entry.name)
    return dict(expected)
