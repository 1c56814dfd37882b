"""GET /healthz: 200 when Redis answers, 503 when it does not."""

from __future__ import annotations

import requests

from b24app.deps import Deps
from b24app.web import create_app
from tests.fixtures.redis import free_port
from tests.integration.helpers import make_settings
from tests.integration.webserver import serve


def test_healthz_ok_with_redis(redis_url: str) -> None:
    with serve(create_app(deps=Deps(make_settings(redis_url)))) as url:
        response = requests.get(f"{url}/healthz", timeout=10)
    assert response.status_code == 200
    assert response.json()["redis"] == "ok"


def test_healthz_503_when_redis_is_down() -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with serve(create_app(deps=Deps(make_settings(dead)))) as url:
        response = requests.get(f"{url}/healthz", timeout=10)
    assert response.status_code == 503
