"""Template globals for "แชร์ไปยัง LINE" (``network_hub.line.share``): the item page of the
dashboard and the public item page show the link once an item is published."""

from __future__ import annotations

from typing import Any

from network_hub.line.share import item_share_url


def install(env: Any, public_base_url: str) -> None:
    env.globals["line_share_url"] = item_share_url
    env.globals["public_base_url"] = public_base_url.rstrip("/")
