"""Security tests reuse the web fixtures: a seeded hub, the app under TestClient, one member per role."""

from tests.web.conftest import client, password_hash, signed_in, world  # noqa: F401  (pytest fixtures)
