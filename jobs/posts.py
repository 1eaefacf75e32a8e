"""From a delivery's ``SendJob`` to the publisher's platform-neutral ``Post`` and ``OutletTarget``."""

from __future__ import annotations

import os
from pathlib import Path

from network_hub.outbox.transitions import SendJob
from publishers.base import ErrorClass, OutletTarget, Post, PostPhoto, PublishError


def post_from_job(job: SendJob, public_base_url: str = "") -> Post:
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
        link=None,
    )


def read_token(token_env: str | None, token_file: str | None) -> str | None:
    """Read an outlet's token at each use (a new token needs no restart). Never logged."""
    if token_env:
        value = os.environ.get(token_env, "").strip()
        if not value:
            raise PublishError(ErrorClass.NEEDS_HUMAN,
                               f"the token variable {token_env} is not set in the hub's environment",
                               code="token_missing")
        return value
    if token_file:
        try:
            value = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise PublishError(ErrorClass.NEEDS_HUMAN, f"cannot read the token file {token_file}: "
                               f"{exc.strerror}", code="token_missing") from None
        if not value:
            raise PublishError(ErrorClass.NEEDS_HUMAN, f"the token file {token_file} is empty",
                               code="token_missing")
        return value
    return None


def target_from_job(job: SendJob) -> OutletTarget:
    return OutletTarget(
        outlet_id=job.outlet_id,
        platform=job.platform,
        address=job.address,
        name=job.outlet_name,
        token=read_token(job.token_env, job.token_file),
        thai_digits=job.thai_digits,
    )
