"""Fixtures for the post tests: the publisher fixtures (loopback fakes, real clients) are reused."""

from tests.publishers.conftest import (  # noqa: F401  (pytest fixtures, found by name)
    fb,
    fb_pub,
    fb_target,
    page,
    photo_files,
    tg,
    tg_pub,
    tg_target,
)
from tests.web.conftest import client, password_hash, signed_in, world  # noqa: F401
