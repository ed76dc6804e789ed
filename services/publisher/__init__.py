"""The public portal: renders published reports into static files and mirrors them into
the `portal` object store; pushes signed webhooks to external portals.

Everything here is a pure function of plain data (see `model.PortalReport`); the publish
task (tasks.py) loads that data from the database and records what was published.
"""

from services.publisher.folding import fold_name
from services.publisher.model import (
    DeadlineStatus,
    PortalReport,
    Retraction,
    deadline_for,
    deadline_status_of,
    report_slug,
)
from services.publisher.render import data_csv, data_json, render_report_page, report_files
from services.publisher.site import DuplicateReportError, build_portal, coverage, site_files
from services.publisher.webhooks import (
    DeliveryAttempt,
    deliver_webhook,
    publication_event,
    sign_webhook,
    verify_webhook,
)
from services.publisher.write import WriteResult, write_site

__all__ = [
    "DeadlineStatus",
    "DeliveryAttempt",
    "DuplicateReportError",
    "PortalReport",
    "Retraction",
    "WriteResult",
    "build_portal",
    "coverage",
    "data_csv",
    "data_json",
    "deadline_for",
    "deadline_status_of",
    "deliver_webhook",
    "fold_name",
    "publication_event",
    "report_files",
    "report_slug",
    "render_report_page",
    "sign_webhook",
    "site_files",
    "verify_webhook",
    "write_site",
]
