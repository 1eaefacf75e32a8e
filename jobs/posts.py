"""From a delivery's ``SendJob`` to the publisher's platform-neutral ``Post`` and ``OutletTarget``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

# Registers the source of Page tokens stored by signing in with Facebook (publishers.registry reads
# it for outlets that name no token variable or file): every dispatching process imports this module.
from network_hub import facebook_pages  # noqa: F401
from network_hub.outbox.transitions import SendJob
from publishers.base import OutletTarget, Post, PostPhoto
from publishers.registry import target_for


def post_from_job(job: SendJob) -> Post:
    photos = tuple(
        PostPhoto(sha256=p["sha256"], path=Path(p["path"]) if p.get("path") else None,
                  telegram_file_id=p.get("telegram_file_id"))
        for p in job.photos
    )
    return Post(
        receipt_no=job.receipt_no,
        category=job.category,
        title=job.title,
        body=job.body,
        attribution=job.attribution,
        published_at=job.published_at,
        photos=photos,
    )


def target_from_job(job: SendJob) -> OutletTarget:
    """The outlet's target, its token read now (raises TokenMissing → the outlet needs a person)."""
    target = target_for(SimpleNamespace(
        id=job.outlet_id, platform=job.platform, address=job.address, name=job.outlet_name,
        token_env=job.token_env, token_file=job.token_file, thai_digits=job.thai_digits,
    ))
    key = getattr(job, "line_retry_key", None)  # LINE: the stored X-Line-Retry-Key, reused on every retry
    if key is not None:
        target = replace(target, retry_key=key, retry_key_created_at=getattr(job, "line_retry_key_at", None),
                         budget_left=getattr(job, "line_budget_left", None))
    return target
