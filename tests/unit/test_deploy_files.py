"""The files under deploy/ and the docs that point at them stay true to the app: the reverse proxies pass every route the app serves
(and only those), the systemd units run commands that exist, bind where docs/deploy.md says, and
restart; Redis is configured for AOF as docs/deploy.md describes."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from b24app.cli import REQUIRED_SCOPES, cli
from b24app.settings import load_settings
from b24app.web import create_app

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def app_routes() -> set[str]:
    settings = load_settings(env_file=None, redis_url="redis://127.0.0.1:1/0", telegram_token="1:x",
                             telegram_secret="s" * 16)
    app = create_app(settings)
    return {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"}


def test_both_proxies_pass_exactly_the_apps_routes() -> None:
    routes = app_routes()
    assert {"/b24/install", "/b24/events", "/b24/placement", "/healthz", "/telegram/webhook"} <= routes
    caddy = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    matcher = re.search(r"@app path (.+)", caddy)
    assert matcher is not None
    patterns = matcher.group(1).split()
    nginx = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    location = re.search(r"location ~ (\^\S+\$)", nginx)
    assert location is not None
    nginx_re = re.compile(location.group(1))
    for route in routes:
        assert any(p == route or (p.endswith("/*") and route.startswith(p[:-1])) for p in patterns), route
        assert nginx_re.match(route), route
    assert not nginx_re.match("/sandbox/") and not nginx_re.match("/b24/installx")


def test_nginx_logs_no_query_string_nor_referer() -> None:
    """The app's pages carry their signed pass in the query (and so in the next request's Referer)."""
    nginx = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    found = re.search(r"log_format b24app_path ((?:'[^']*'\s*)+);", nginx)
    assert found is not None
    fields = set(re.findall(r"\$\w+", found.group(1)))
    assert "$uri" in fields and not fields & {"$request", "$args", "$query_string", "$request_uri", "$http_referer"}
    logs = re.findall(r"^\s*access_log\s+([^;]+);", nginx, flags=re.M)
    assert len(logs) == 2 and all(line.split()[-1] == "b24app_path" for line in logs)


def test_caddy_logs_no_pass_nor_referer() -> None:
    """Caddy's only log is filtered: the ``pass`` query key deleted from the URI, the Referer not logged."""
    caddy = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    lines = [line.split("#")[0].strip() for line in caddy.splitlines()]
    logs = [i for i, line in enumerate(lines) if line == "log {"]
    assert len(logs) == 1
    block = lines[logs[0]:]
    assert "format filter {" in block and "wrap json" in block and "format json" not in lines
    query = block.index("request>uri query {")
    assert block[query + 1] == "delete pass" and "request>headers>Referer delete" in block


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / "systemd" / name).read_text(encoding="utf-8"))
    return parser


@pytest.mark.parametrize("name, command", [("b24app-web.service", "serve"), ("b24app-worker@.service", "worker")])
def test_units_run_real_commands_and_restart(name: str, command: str) -> None:
    service = unit(name)["Service"]
    assert service["Restart"] == "always" and service["EnvironmentFile"] == "/etc/b24app/b24app.env"
    argv = shlex.split(service["ExecStart"])
    assert argv[0].endswith("/b24app") and argv[1] == command
    result = CliRunner().invoke(cli, [*argv[1:], "--help"])              # every option exists
    assert result.exit_code == 0, result.output
    for option in argv[2::2]:
        assert option in result.output
    if command == "serve":
        assert argv[argv.index("--host") + 1] == "127.0.0.1"            # only the proxy reaches it


def test_cron_unit_runs_the_procfiles_cron() -> None:
    service = unit("b24app-cron.service")["Service"]
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert "rq cron b24app.cron --url" in procfile["cron"]
    assert "rq cron b24app.cron --url" in service["ExecStart"] and service["Restart"] == "always"


def test_redis_conf_turns_on_aof_every_second() -> None:
    lines = {tuple(line.split(None, 1)) for line in (DEPLOY / "redis.conf").read_text().splitlines()
             if line.strip() and not line.startswith("#")}
    assert {("appendonly", "yes"), ("appendfsync", "everysec"), ("maxmemory-policy", "noeviction")} <= lines


def test_readme_lists_every_command_and_links_the_deployment_guide() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `b24app ([a-z-]+)", readme, flags=re.MULTILINE))
    assert listed == set(cli.list_commands(click.Context(cli)))
    assert "[docs/deploy.md](docs/deploy.md)" in readme


def test_deploy_guide_names_the_real_scopes_routes_and_files() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    scopes_row = next(line for line in guide.splitlines() if line.startswith("| Assign permissions"))
    assert re.findall(r"`([a-z]+)`", scopes_row.split("|")[2]) == list(REQUIRED_SCOPES)
    for target in re.findall(r"\]\(\.\./(deploy/[^)]+|Procfile)\)", guide):
        assert (ROOT / target).is_file(), target
    for route in app_routes():
        assert f"`{route}" in guide or route.startswith("/b24/placement/"), route
