"""Finding 10: ids above 2^63 and far dates answer 400/404, never 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import WebWorld, csrf_of, sign_in

HUGE = "99999999999999999999"
PATHS = [
    f"/items/{HUGE}", "/items/9223372036854775808", f"/items/{HUGE}/photos/0", f"/outlets/{HUGE}",
    f"/feeds/{HUGE}.atom", f"/public/items/{HUGE}",
    "/calendar?day=9999-12-31", "/calendar?day=0001-01-01", "/stats?end=0001-01-05", "/stats?end=9999-12-31",
    "/stats?start=9999-12-31", "/stats.csv?end=0001-01-05",
]


@pytest.mark.parametrize("path", PATHS)
def test_out_of_range_input_is_a_client_error(client: TestClient, world: WebWorld, path: str) -> None:
    sign_in(client, world.people.admin.phone)
    response = client.get(path)
    assert response.status_code in (400, 404), (path, response.status_code)
    if response.status_code == 400 and "text/html" in response.headers.get("content-type", ""):
        assert "ท" in response.text  # a Thai message, not a traceback


def test_an_unsafe_route_with_a_huge_id_is_refused_cleanly(client: TestClient, world: WebWorld) -> None:
    sign_in(client, world.people.admin.phone)
    token = csrf_of(client, "/queue")
    response = client.post(f"/items/{HUGE}/approve", data={"version": "1", "csrf_token": token})
    assert response.status_code == 400
    assert "นอกช่วง" in response.text
    assert client.get("/queue").status_code == 200  # the session and the database are fine afterwards
