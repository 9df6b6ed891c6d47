"""docker-compose.yml, the Dockerfile and the nginx config, checked without Docker.

No Docker engine runs here, so this reads the files and checks what would break
a `docker compose up`: the services and their order, the environment the
settings really read (by loading the settings with it), the commands the
containers run, the ports nginx and the workers agree on, and nginx's own
verdict on the config when nginx is installed. The same topology runs for real
in tests/test_cluster.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import get_commands, load_command_class
from django.utils.module_loading import import_string

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
NGINX_CONF = (ROOT / "deploy" / "nginx" / "nginx.conf").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()
#: What the issue asks compose to configure, by the names the settings read.
REQUIRED_ENVIRONMENT = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS",
                        "CSRF_TRUSTED_ORIGINS", "GRAPHQL_WS_ALLOWED_ORIGINS"}


def workers() -> dict[str, Any]:
    return {name: service for name, service in SERVICES.items()
            if service.get("command", [])[2:3] == ["serve"]}


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error}, as `compose up` sees it."""
    def replace(match: re.Match[str]) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3) or ""
        if env.get(name):
            return env[name]
        if operator == ":?":
            raise KeyError(f"{name}: {argument}")
        return argument if operator == ":-" else ""

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", replace, value)


def settings_reads() -> set[str]:
    """Every environment name the demo's settings read."""
    source = "".join((ROOT / "myproject" / name).read_text()
                     for name in ("settings.py", "environment.py"))
    return set(re.findall(r'(?:environ\.get|env_bool|env_list)\(\s*"(\w+)"', source))


def test_the_services_of_the_topology() -> None:
    assert {"postgres", "redis", "migrate", "balancer"} <= set(SERVICES)
    assert len(workers()) >= 2, "two or more daphne workers"
    assert SERVICES["migrate"]["command"][:3] == ["python", "manage.py", "migrate"]
    assert SERVICES["migrate"]["restart"] == "no"  # one-shot
    for name, worker in workers().items():
        assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert worker["build"] == "." and worker["stop_signal"] == "SIGTERM", name
        drain = float(worker["command"][worker["command"].index("--drain-timeout") + 1])
        assert float(worker["stop_grace_period"].rstrip("s")) > drain, "SIGKILL after the drain"
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert set(SERVICES["balancer"]["depends_on"]) == set(workers())
    for name in ("postgres", "redis", "balancer", *workers()):
        assert SERVICES[name]["healthcheck"]["test"], f"{name} has a health check"
    assert any("/readyz" in part for part in next(iter(workers().values()))["healthcheck"]["test"])


def test_the_environment_is_what_the_settings_read() -> None:
    environment = next(iter(workers().values()))["environment"]
    assert set(environment) >= REQUIRED_ENVIRONMENT
    unknown = set(environment) - settings_reads()
    assert not unknown, f"compose sets names the settings never read: {unknown}"
    assert SERVICES["migrate"]["environment"] == environment  # the same configuration
    # A SECRET_KEY must be given: compose refuses to start without one.
    with pytest.raises(KeyError, match="SECRET_KEY"):
        interpolate(environment["SECRET_KEY"], {})


def test_the_settings_take_the_compose_environment() -> None:
    """Load the demo settings in a fresh process with what compose would pass."""
    given = {"SECRET_KEY": "k" * 50}
    environment = {name: interpolate(str(value), given)
                   for name, value in next(iter(workers().values()))["environment"].items()}
    probe = ("import json; from django.conf import settings as s; import django; django.setup();"
             "print(json.dumps({'db': s.DATABASES['default'], 'layer': s.CHANNEL_LAYERS['default'],"
             "'hosts': s.ALLOWED_HOSTS, 'csrf': s.CSRF_TRUSTED_ORIGINS, 'key': s.SECRET_KEY,"
             "'ws': s.API_GRAPHQL['WS_ALLOWED_ORIGINS'],"
             "'log': s.LOGGING['handlers']['console']['formatter']}, default=str))")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(environment, DJANGO_SETTINGS_MODULE="myproject.settings", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=True, timeout=60)
    loaded = json.loads(result.stdout)
    assert loaded["db"]["ENGINE"] == "django.db.backends.postgresql"
    assert (loaded["db"]["HOST"], loaded["db"]["NAME"], loaded["db"]["USER"]) == (
        "postgres", "app", "app")
    assert loaded["layer"]["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert loaded["layer"]["CONFIG"]["hosts"] == ["redis://redis:6379/0"]
    assert loaded["hosts"] == ["localhost", "127.0.0.1"]
    assert loaded["csrf"] == ["http://localhost:8000", "http://127.0.0.1:8000"]
    assert loaded["key"] == "k" * 50
    assert loaded["ws"] == []
    assert loaded["log"] == "json"


def test_the_commands_exist() -> None:
    commands = get_commands()
    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.MULTILINE)
    assert cmd, "the Dockerfile has an exec-form CMD"
    dockerfile_cmd = json.loads(cmd[1])
    for command in [dockerfile_cmd, SERVICES["migrate"]["command"],
                    *(w["command"] for w in workers().values())]:
        assert command[:2] == ["python", "manage.py"]
        assert (ROOT / "manage.py").exists()
        assert command[2] in commands, f"manage.py {command[2]}"
        parser = load_command_class(commands[command[2]], command[2]).create_parser(
            "manage.py", command[2])
        parser.parse_args(command[3:])  # every option exists
    # What `serve` runs: the ASGI application of the settings, importable.
    from django.conf import settings

    assert callable(import_string(settings.ASGI_APPLICATION))


def test_the_dockerfile_copies_what_exists() -> None:
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            *sources, _ = line.split()[1:]
            for source in sources:
                assert (ROOT / source).exists(), f"Dockerfile copies a missing {source}"
    assert "HEALTHCHECK" in DOCKERFILE and "/healthz" in DOCKERFILE
    for ignored in (".venv", "**/node_modules"):
        assert ignored in (ROOT / ".dockerignore").read_text().splitlines()


def test_the_balancer_reaches_the_workers() -> None:
    balancer = SERVICES["balancer"]
    published, target = balancer["ports"][0].rsplit(":", 1)
    assert re.search(rf"listen {target};", NGINX_CONF)
    assert published.startswith("${HTTP_PORT:-")
    upstreams = re.findall(r"^\s*server (\S+):(\d+)", NGINX_CONF, re.MULTILINE)
    expected = {(name, w["command"][w["command"].index("--port") + 1])
                for name, w in workers().items()}
    assert set(upstreams) == expected
    mounts = dict(volume.rsplit(":", 2)[:2] for volume in balancer["volumes"])
    for source in mounts:
        assert (ROOT / source).exists(), source
    assert f"include {mounts['./deploy/nginx/proxy.conf']};" in NGINX_CONF
    proxy = (ROOT / "deploy" / "nginx" / "proxy.conf").read_text()
    assert "proxy_set_header Upgrade $http_upgrade;" in proxy
    assert "proxy_set_header Connection $connection_upgrade;" in proxy
    assert "map $http_upgrade $connection_upgrade" in NGINX_CONF


def test_nginx_accepts_the_compose_config(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install -y nginx-light)")
    # The container's names and paths, mapped to this machine: the syntax and every
    # directive are nginx's to judge; the upstream hosts only need to resolve.
    config = NGINX_CONF.replace("/etc/nginx/proxy.conf", str(ROOT / "deploy/nginx/proxy.conf"))
    for name in workers():
        config = config.replace(f"server {name}:", "server 127.0.0.1:")
    config = config.replace("listen 80;", "listen 127.0.0.1:1;")
    (tmp_path / "nginx.conf").write_text(f"pid {tmp_path}/nginx.pid;\n{config}")
    result = subprocess.run([nginx, "-t", "-e", str(tmp_path / "error.log"), "-p", str(tmp_path),
                             "-c", str(tmp_path / "nginx.conf")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
