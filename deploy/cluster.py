"""The docker-compose topology, from local processes: what ``scripts/cluster`` runs.

PostgreSQL and Redis (the machine's own, started if down), a one-shot migrate,
N workers (``manage.py serve``, so SIGTERM drains them gracefully) on free ports,
a Celery worker for the GraphQL-started tasks (Redis is its broker; log ``tasks.log``)
and nginx in front with the same routes as compose (``deploy/nginx/proxy.conf``)::

    scripts/cluster start [--workers 2] [--name default] [--database NAME] [--fresh] [--seed]
    scripts/cluster status [--json]
    scripts/cluster worker stop|start|kill N
    scripts/cluster stop

Each cluster keeps its state (ports, pids, logs, the generated nginx config) in
``$TMPDIR/realtime-cluster-<name>/``, so any shell can stop it, and its own Redis
prefix, so clusters and test runs sharing one Redis never see each other's events.
Tests drive the same code through :class:`Cluster`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROXY_CONF = ROOT / "deploy" / "nginx" / "proxy.conf"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/0"


class ClusterError(RuntimeError):
    pass


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports. They are held until all are chosen: one at a time,
    the kernel may hand the same port out twice (it once gave a worker the balancer's)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def http_status(url: str, timeout: float = 2) -> int | None:
    """The status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return None


def alive(pid: int) -> bool:
    """Running (a zombie child that exited counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        status = Path(f"/proc/{pid}/status").read_text()
        return "\nState:\tZ" not in status
    return True


# -- PostgreSQL and Redis: the machine's own, as .ci/run starts them ------------------------

def _apt_install(package: str) -> None:
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "install", "-y", "-q", package], check=True,
                   stdout=subprocess.DEVNULL)


def _postgres_ready(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(f"{url}/postgres", connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


def _redis_ready(url: str) -> bool:
    from urllib.parse import urlparse

    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379),
                                      timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_services(postgres: str = POSTGRES, redis: str = REDIS) -> None:
    """Start the local PostgreSQL and Redis if they do not answer (installing them
    from Debian's packages if needed), then wait for both."""
    if not _postgres_ready(postgres):
        if not shutil.which("pg_ctlcluster"):
            _apt_install("postgresql")
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                       check=False)
    if not _redis_ready(redis):
        if not shutil.which("redis-server"):
            _apt_install("redis-server")
        for folder in ("/var/lib/redis", "/var/log/redis"):
            os.makedirs(folder, exist_ok=True)
        subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1",
                        "--port", "6379", "--save", "", "--appendonly", "no",
                        "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"],
                       check=True)
    deadline = time.monotonic() + 30
    while not (_postgres_ready(postgres) and _redis_ready(redis)):
        if time.monotonic() > deadline:
            raise ClusterError("PostgreSQL or Redis did not start")
        time.sleep(0.5)


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                      else None)
    if found is None:
        if os.geteuid() == 0 and shutil.which("apt-get"):
            _apt_install("nginx-light")
            return nginx_binary()
        raise ClusterError("nginx is not installed: apt-get install -y nginx-light")
    return found


def recreate_database(postgres: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{postgres}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def ensure_database(postgres: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{postgres}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# -- the cluster -------------------------------------------------------------------------

@dataclass
class Worker:
    port: int
    pid: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Cluster:
    name: str = "default"
    workers: int = 2
    database: str | None = None
    postgres: str = POSTGRES
    redis: str = REDIS
    settings: str = "myproject.settings"
    balancer_port: int = 0
    #: Extra environment for the workers (and migrate/seed), e.g. LOG_LEVEL.
    env: dict[str, str] = field(default_factory=dict)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(40))
    members: list[Worker] = field(default_factory=list)
    nginx_pid: int | None = None
    #: The Celery worker running the tasks started through GraphQL (compose's `tasks`).
    tasks_pid: int | None = None

    def __post_init__(self) -> None:
        self.database = self.database or f"realtime_cluster_{self.name}".replace("-", "_")
        # Popen handles of the processes this Python process started (to reap them).
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    # -- where things are -------------------------------------------------------------
    @property
    def dir(self) -> Path:
        return Path(tempfile.gettempdir()) / f"realtime-cluster-{self.name}"

    @property
    def state_file(self) -> Path:
        return self.dir / "state.json"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.balancer_port}"

    @property
    def database_url(self) -> str:
        return f"{self.postgres}/{self.database}"

    def environment(self) -> dict[str, str]:
        """What compose's x-app environment gives each worker, for local processes."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "REDIS_URL", "REDIS_PREFIX", "TEST_DB_SUFFIX")}
        env.update({
            "DJANGO_SETTINGS_MODULE": self.settings,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis,
            "REDIS_PREFIX": f"cluster-{self.name}",
            "SECRET_KEY": self.secret_key,
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        })
        env.update(self.env)
        return env

    # -- persistence: any shell can find and stop the cluster ----------------------------
    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, name: str) -> Cluster:
        path = Path(tempfile.gettempdir()) / f"realtime-cluster-{name}" / "state.json"
        if not path.exists():
            raise ClusterError(f"no cluster named {name!r} is running ({path} is missing)")
        raw = json.loads(path.read_text())
        raw["members"] = [Worker(**member) for member in raw["members"]]
        return cls(**raw)

    def running(self) -> bool:
        return any(pid is not None and alive(pid)
                   for pid in [self.nginx_pid, self.tasks_pid, *(w.pid for w in self.members)])

    # -- lifecycle ------------------------------------------------------------------------
    def start(self, fresh: bool = False, seed: bool = False) -> Cluster:
        if self.state_file.exists():
            previous = Cluster.load(self.name)
            if previous.running():
                raise ClusterError(f"cluster {self.name!r} is running: scripts/cluster stop "
                                   f"--name {self.name}")
        ensure_services(self.postgres, self.redis)
        nginx = nginx_binary()
        assert self.database is not None
        (recreate_database if fresh else ensure_database)(self.postgres, self.database)
        self.dir.mkdir(parents=True, exist_ok=True)
        # The one-shot migrate of compose, then (optionally) the demo's users and data.
        self.manage("migrate", "--noinput", "-v0")
        if seed:
            self.manage("seed_demo", "--articles", "40", "--users", "10")
        *worker_ports, free = free_ports(self.workers + 1)
        self.members = [Worker(port) for port in worker_ports]
        self.balancer_port = self.balancer_port or free
        self.save()
        try:
            for index in range(len(self.members)):
                self.start_worker(index, wait=False)
            self.start_tasks_worker()
            for index in range(len(self.members)):
                self.wait_ready(index)
            self.start_balancer(nginx)
        except BaseException:
            self.stop()
            raise
        return self

    def manage(self, *args: str) -> str:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT,
                                env=self.environment(), capture_output=True, text=True,
                                check=False, timeout=600)
        if result.returncode != 0:
            raise ClusterError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def _spawn(self, command: list[str], log: Path) -> int:
        with log.open("ab") as out:
            process = subprocess.Popen(command, cwd=ROOT, env=self.environment(), stdout=out,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       # its own session: outlives `scripts/cluster start`,
                                       # and a Ctrl-C in that shell does not reach it
                                       start_new_session=True)
        self._children[process.pid] = process
        return process.pid

    def start_worker(self, index: int, wait: bool = True) -> None:
        worker = self.members[index]
        if worker.pid is not None and alive(worker.pid):
            raise ClusterError(f"worker {index + 1} is running (pid {worker.pid})")
        worker.pid = self._spawn(
            [sys.executable, "manage.py", "serve", "--bind", "127.0.0.1",
             "--port", str(worker.port), "--proxy-headers"],
            self.dir / f"worker-{index + 1}.log")
        self.save()
        if wait:
            self.wait_ready(index)

    def wait_ready(self, index: int, timeout: float = 60) -> None:
        worker = self.members[index]
        deadline = time.monotonic() + timeout
        while http_status(worker.url + "/readyz") != 200:
            if worker.pid is None or not alive(worker.pid):
                raise ClusterError(f"worker {index + 1} exited: see {self.dir}/worker-"
                                   f"{index + 1}.log")
            if time.monotonic() > deadline:
                raise ClusterError(f"worker {index + 1} not ready after {timeout}s")
            time.sleep(0.2)

    def stop_worker(self, index: int, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
        """SIGTERM: the graceful drain of ``manage.py serve``; SIGKILL: a crash."""
        worker = self.members[index]
        if worker.pid is not None:
            self._signal_and_wait(worker.pid, sig, timeout)
        worker.pid = None
        self.save()

    def _signal_and_wait(self, pid: int, sig: int, timeout: float) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        child = self._children.pop(pid, None)
        if child is not None:
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(10)
            return
        deadline = time.monotonic() + timeout
        while alive(pid):
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                break
            time.sleep(0.1)

    def nginx_config(self) -> str:
        tmp = self.dir / "nginx-tmp"
        upstreams = "\n".join(f"        server 127.0.0.1:{w.port} max_fails=1 fail_timeout=5s;"
                              for w in self.members)
        # As root, nginx's workers would switch to `nobody`, who cannot write our
        # temp dir: keep them as the user who runs the cluster.
        user = "user root;\n" if os.geteuid() == 0 else ""
        return f"""# Generated by deploy/cluster.py for cluster {self.name!r}; routes as in compose.
daemon off;
{user}worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/nginx-error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log {self.dir}/nginx-access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    upstream workers {{
{upstreams}
    }}
    server {{
        listen 127.0.0.1:{self.balancer_port};
        # Which worker answered (HTTP and WebSocket handshakes): the tests read it.
        add_header X-Upstream $upstream_addr always;
        include {PROXY_CONF};
    }}
}}
"""

    def start_balancer(self, nginx: str) -> None:
        (self.dir / "nginx-tmp").mkdir(parents=True, exist_ok=True)
        config = self.dir / "nginx.conf"
        config.write_text(self.nginx_config())
        base = [nginx, "-e", str(self.dir / "nginx-error.log"), "-p", str(self.dir),
                "-c", str(config)]
        check = subprocess.run([*base, "-t", "-q"], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise ClusterError(f"nginx rejected {config}:\n{check.stderr}")
        self.nginx_pid = self._spawn(base, self.dir / "nginx.log")
        self.save()
        deadline = time.monotonic() + 20
        while http_status(self.url + "/healthz") != 200:
            if not alive(self.nginx_pid):
                raise ClusterError(f"nginx exited: see {self.dir}/nginx-error.log")
            if time.monotonic() > deadline:
                raise ClusterError("the balancer did not answer")
            time.sleep(0.1)

    def start_tasks_worker(self) -> None:
        """``celery -A myproject worker`` on the cluster's Redis (its broker) and database."""
        self.tasks_pid = self._spawn(
            [sys.executable, "-m", "celery", "-A", "myproject", "worker", "--loglevel=INFO",
             "--concurrency=2", "-n", f"tasks-{self.name}@%h"],
            self.dir / "tasks.log")
        self.save()

    def stop(self) -> None:
        if self.tasks_pid is not None:
            # TERM: Celery's warm shutdown (the running task finishes first).
            self._signal_and_wait(self.tasks_pid, signal.SIGTERM, 60)
            self.tasks_pid = None
        if self.nginx_pid is not None:
            self._signal_and_wait(self.nginx_pid, signal.SIGQUIT, 20)  # QUIT: nginx's graceful
            self.nginx_pid = None
        for index, worker in enumerate(self.members):
            if worker.pid is not None:
                self.stop_worker(index)
        self.state_file.unlink(missing_ok=True)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "balancer": self.url, "database_url": self.database_url,
                "redis_prefix": f"cluster-{self.name}", "logs": str(self.dir),
                "tasks_worker": {"pid": self.tasks_pid, "running": self.tasks_pid is not None
                                 and alive(self.tasks_pid)},
                "workers": [{"url": w.url, "pid": w.pid,
                             "running": w.pid is not None and alive(w.pid)}
                            for w in self.members]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/cluster", description=__doc__.split("\n")[0])
    parser.add_argument("--name", default="default", help="several clusters can run at once")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start PostgreSQL, Redis, workers and nginx")
    start.add_argument("--workers", type=int, default=2)
    start.add_argument("--database", help="PostgreSQL database (default realtime_cluster_NAME)")
    start.add_argument("--fresh", action="store_true", help="drop and recreate the database")
    start.add_argument("--seed", action="store_true", help="load the demo users and data")
    start.add_argument("--port", type=int, default=0, help="balancer port (default: a free one)")
    start.add_argument("--settings", default="myproject.settings")
    commands.add_parser("stop", help="stop nginx, then drain and stop every worker")
    status = commands.add_parser("status", help="URLs, pids and logs")
    status.add_argument("--json", action="store_true")
    worker = commands.add_parser("worker", help="stop (SIGTERM), kill (SIGKILL) or start one")
    worker.add_argument("action", choices=["stop", "kill", "start"])
    worker.add_argument("index", type=int, help="1-based")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            cluster = Cluster(args.name, args.workers, args.database, settings=args.settings,
                              balancer_port=args.port)
            cluster.start(fresh=args.fresh, seed=args.seed)
            print(cluster.url)
            for number, member in enumerate(cluster.members, 1):
                print(f"  worker {number}: {member.url} (pid {member.pid})", file=sys.stderr)
            print(f"  logs: {cluster.dir}  stop: scripts/cluster --name {args.name} stop",
                  file=sys.stderr)
        elif args.command == "stop":
            Cluster.load(args.name).stop()
        elif args.command == "status":
            description = Cluster.load(args.name).describe()
            print(json.dumps(description, indent=2) if args.json else description["balancer"])
        elif args.command == "worker":
            cluster = Cluster.load(args.name)
            index = args.index - 1
            if not 0 <= index < len(cluster.members):
                raise ClusterError(f"no worker {args.index}")
            if args.action == "start":
                cluster.start_worker(index)
            else:
                cluster.stop_worker(index, signal.SIGTERM if args.action == "stop"
                                    else signal.SIGKILL)
    except ClusterError as error:
        print(f"cluster: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
