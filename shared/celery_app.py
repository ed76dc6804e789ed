"""The one Celery app of every service: one queue per stage, JSON only, late acks.

Tasks are addressed by name (``nianbao.parse`` …) so a service can send work to a stage
without importing that stage's code.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu import Queue

from shared.models import Stage
from shared.settings import Settings, get_settings

TASK_NAMES = {stage: f"nianbao.{stage.value}" for stage in Stage}


def _transport_options(settings: Settings) -> dict[str, Any]:
    if settings.broker_url.startswith("filesystem"):
        folder = settings.filesystem_broker_dir
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "store_processed": False,
            "control_folder": str(folder / "control"),
        }
    options: dict[str, Any] = {
        "visibility_timeout": settings.broker_visibility_timeout,
        # A dead broker must fail a send within seconds so the outbox takes over.
        "socket_connect_timeout": 3,
        "socket_timeout": 10,
        "max_retries": 2,
    }
    if settings.broker_key_prefix:
        options["global_keyprefix"] = settings.broker_key_prefix
    return options


def make_celery(settings: Settings) -> Celery:
    app = Celery("nianbao")
    app.conf.update(
        broker_url=settings.broker_url,
        broker_transport_options=_transport_options(settings),
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # status lives in the database, not in a result backend
        task_acks_late=True,  # a task lost with its worker is delivered again…
        task_reject_on_worker_lost=True,  # …including when the worker process is killed
        worker_prefetch_multiplier=1,  # one long parse must not hold others hostage
        task_queues=[Queue(stage.value) for stage in Stage],
        task_default_queue=Stage.parse.value,
        task_routes={TASK_NAMES[stage]: {"queue": stage.value} for stage in Stage},
        task_time_limit=settings.stage_time_limit,
        # Raised inside the task first, so the stage can record why it stopped (shared/stages.py).
        task_soft_time_limit=settings.stage_soft_time_limit,
        worker_send_task_events=settings.task_events,
        task_send_sent_event=settings.task_events,
        worker_hijack_root_logger=False,
        include=[
            "services.parser.tasks",
            "services.validator.tasks",
            "services.publisher.tasks",
            "services.ops.tasks",
        ],
    )
    return app


celery_app = make_celery(get_settings())
