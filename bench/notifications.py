"""Police notifications: receiving them through the HTTP API of a running server.

Prints `name=value` lines:
  api_notifications_per_s  distinct notifications (two children, two adults, an officer's
                           narrative) POSTed to /api/v1/police-notifications/ by 4
                           concurrent clients, each on its own keep-alive connection, to a
                           real server (`mash serve --no-worker`: gunicorn as in production)
                           for BENCH_API_SECONDS, each answered 201; per second of wall-clock
                           (goal on PostgreSQL, 2 cores: >= 100)
  replays_created          notifications created by posting 1,000 duplicates of ones already
                           received, by the same 4 clients (goal: 0; every answer is a 200)

Runs on a scratch database (see _setup.py): SQLite by default, PostgreSQL when
DATABASE_URL is set. The server is started on a free port of 127.0.0.1 and
stopped at the end; its log goes to a temporary file, shown on stderr if it fails.
Sizes: BENCH_API_SECONDS, BENCH_API_MAX, BENCH_API_REPLAYS, BENCH_API_CLIENTS.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _triage
from _setup import scratch_database

SECONDS = float(os.environ.get("BENCH_API_SECONDS", "15"))
MAX_NOTIFICATIONS = int(os.environ.get("BENCH_API_MAX", "20000"))
REPLAYS = int(os.environ.get("BENCH_API_REPLAYS", "1000"))
CLIENTS = int(os.environ.get("BENCH_API_CLIENTS", "4"))
HOST = "127.0.0.1"
PATH = "/api/v1/police-notifications/"
READY_SECONDS = 60


@dataclass(frozen=True)
class Server:
    """A running Mash server: where it listens, and the key a police force's system uses."""

    host: str
    port: int
    key: str
    pid: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def police_force() -> tuple[Any, str]:
    """A police force, and the key an administrator issues to its system."""
    from mash.accounts import services as account_services
    from mash.accounts.models import AgencyKind, Role
    from mash.api import services as api_services

    force = account_services.create_agency(
        actor=None, name="Riverside Police", kind=AgencyKind.POLICE
    )
    admin = account_services.create_user(
        actor=None,
        email="admin@bench.example",
        full_name="Bench Administrator",
        agency=force,
        roles=[Role.ADMINISTRATOR],
        password_hash="!",  # noqa: S106  (an unusable password: nobody signs in)
        send_invitation=False,
    )
    _token, key = api_services.issue_token(actor=admin, agency=force, name="Niche RMS")
    return force, key


def researcher(force: Any) -> tuple[str, str]:
    """A police researcher of the force who signs in to triage (no second factor here)."""
    from mash.accounts import services as account_services
    from mash.accounts.models import Role

    email, password = "researcher@bench.example", secrets.token_urlsafe(24)
    account_services.create_user(
        actor=None,
        email=email,
        full_name="Bench Researcher",
        agency=force,
        roles=[Role.POLICE_RESEARCHER],
        password=password,
        send_invitation=False,
    )
    return email, password


def waiting() -> int:
    from mash.contacts.models import PoliceNotification

    return PoliceNotification.objects.filter(outcome="").count()


@contextmanager
def running_server(key: str) -> Iterator[Server]:
    """`mash serve --no-worker` on a free port, against the scratch database."""
    from django.db import connections

    connections.close_all()  # the server's processes open their own
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="mash-bench-server-", suffix=".log", delete=False)  # noqa: SIM115
    command = [sys.executable, "-m", "mash.cli", "serve", "--no-worker", "--host", HOST]
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
        [*command, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy()
    )
    try:
        wait_until_ready(port, process)
        yield Server(HOST, port, key, process.pid)
    except BaseException:
        log.flush()
        sys.stderr.write(Path(log.name).read_text()[-5000:])
        raise
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        Path(log.name).unlink(missing_ok=True)


def _own_cpu(pid: int) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and its children (Linux /proc; 0 elsewhere).

    The server's own cost per request, which a busy machine changes far less than
    the wall-clock rate.
    """
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return _own_cpu(pid) + sum(cpu_seconds(int(child)) for child in children)
    except (OSError, ValueError, IndexError):
        return 0.0


def database_cpu_seconds() -> float:
    """CPU time used so far by PostgreSQL's processes serving this database (0 on SQLite,
    where the database's work is done inside the web server's processes)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        pids = [row[0] for row in cursor.fetchall()]
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):  # not here, or gone
            total += _own_cpu(pid)
    return total


def wait_until_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped with {process.returncode}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=5)
            connection.request("GET", PATH)
            status = connection.getresponse().status
            connection.close()
            if status == 401:  # up, and answering the API without a key
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not start in time")


def notification(reference: str, incident_at: str) -> bytes:
    return json.dumps(
        {
            "occurrence_reference": reference,
            "incident_at": incident_at,
            "incident_type": "domestic_abuse",
            "dash_risk": "medium",
            "location": "12 Acacia Avenue, Riverside RS1 2AB",
            "children": [
                {
                    "given_name": "Amelia",
                    "family_name": "Jones",
                    "date_of_birth": "2017-05-02",
                    "seen": True,
                    "spoken_to": False,
                },
                {
                    "given_name": "Noah",
                    "family_name": "Jones",
                    "date_of_birth": "2021-11-19",
                    "seen": True,
                    "spoken_to": None,
                },
            ],
            "adults": [
                {"role": "victim", "given_name": "Sarah", "family_name": "Jones"},
                {
                    "role": "suspect",
                    "given_name": "Mark",
                    "family_name": "Jones",
                    "date_of_birth": "1988-03-14",
                },
            ],
            "narrative": (
                "Police were called by a neighbour who heard shouting and a crash. On arrival "
                "Sarah had a red mark to her cheek and said Mark had pushed her during an "
                "argument about money. Amelia was found in her bedroom, upset, and said she "
                "had heard her parents shouting. Noah was asleep. Mark was arrested and "
                "taken into custody. DASH completed with Sarah: medium risk."
            ),
            "officer_name": "PC Dan Okafor",
            "officer_collar_number": "4471",
            "officer_team": "Riverside Response Team B",
        }
    ).encode()


class Poster:
    """One client: a keep-alive connection, posting notifications one after another."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
        self.headers = {
            "Authorization": f"Bearer {server.key}",
            "Content-Type": "application/json",
        }

    def post(self, body: bytes) -> int:
        for attempt in (1, 2):
            try:
                self.connection.request("POST", PATH, body=body, headers=self.headers)
                response = self.connection.getresponse()
                response.read()
                return response.status
            except (http.client.HTTPException, OSError):
                # The server closed an idle keep-alive connection: open another, once.
                self.connection.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.connection.close()


def in_parallel(
    clients: int, work: Callable[[int, Poster], Counter[int]], server: Server
) -> Counter[int]:
    """Runs work(n, poster) in `clients` threads, started together; their statuses added up."""
    barrier = threading.Barrier(clients)
    results: list[Counter[int]] = [Counter() for _ in range(clients)]
    failures: list[BaseException] = []

    def run(n: int) -> None:
        poster = Poster(server)
        try:
            barrier.wait()
            results[n] = work(n, poster)
        except BaseException as error:
            failures.append(error)
        finally:
            poster.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return sum(results, Counter())


def measure_api(server: Server) -> dict[str, str]:
    from mash.contacts.models import PoliceNotification

    incident_at = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat(timespec="seconds")
    per_client = MAX_NOTIFICATIONS // CLIENTS

    def distinct(n: int, poster: Poster) -> Counter[int]:
        statuses: Counter[int] = Counter()
        deadline = time.monotonic() + SECONDS
        for i in range(per_client):
            if time.monotonic() >= deadline:
                break
            statuses[poster.post(notification(f"BENCH-{n}-{i:06d}", incident_at))] += 1
        return statuses

    def warm_up(n: int, poster: Poster) -> Counter[int]:
        return Counter(poster.post(notification(f"WARM-{n}-{i}", incident_at)) for i in range(25))

    # Every worker process imports the URLs, connects to the database and fills its caches
    # on its first requests: a server in service has done that long ago.
    in_parallel(CLIENTS, warm_up, server)
    web_before, db_before = cpu_seconds(server.pid), database_cpu_seconds()
    clients_before, started = time.process_time(), time.perf_counter()
    statuses = in_parallel(CLIENTS, distinct, server)
    elapsed = time.perf_counter() - started
    cpu = {
        "web server": cpu_seconds(server.pid) - web_before,
        "database": database_cpu_seconds() - db_before,
        "clients": time.process_time() - clients_before,
    }
    created = statuses[201]
    if set(statuses) != {201}:
        print(f"# unexpected answers while posting: {dict(statuses)}")

    before = PoliceNotification.objects.count()
    references = list(
        PoliceNotification.objects.filter(occurrence_reference__startswith="BENCH-")
        .order_by("pk")
        .values_list("occurrence_reference", flat=True)[:40]
    )

    def duplicates(n: int, poster: Poster) -> Counter[int]:
        statuses: Counter[int] = Counter()
        for i in range(n, REPLAYS, CLIENTS):
            reference = references[i % len(references)]
            statuses[poster.post(notification(reference, incident_at))] += 1
        return statuses

    replayed = in_parallel(CLIENTS, duplicates, server)
    replays_created = PoliceNotification.objects.count() - before
    if set(replayed) != {200}:
        print(f"# unexpected answers to duplicates: {dict(replayed)}")
    print(f"# {created:,} notifications in {elapsed:.1f}s; {sum(replayed.values()):,} duplicates")
    if created:
        # What each notification costs in CPU, wherever it was spent: on a busy machine
        # the rate above falls, these do not (much), and they bound the rate on free cores.
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        spent = ", ".join(
            f"{name} {seconds / created * 1000:.1f} ms" for name, seconds in cpu.items()
        )
        cores = os.cpu_count() or 1
        ceiling = cores * created / sum(cpu.values()) if sum(cpu.values()) else float("nan")
        print(f"# CPU per notification: {spent} (load average {load:.1f} on {cores} cores)")
        print(f"# so at most about {ceiling:.0f} notifications/s on {cores} free cores")
    return {
        "api_notifications_per_s": f"{created / elapsed:.1f}",
        "replays_created": str(replays_created),
    }


def main() -> None:
    with scratch_database() as vendor:
        print(f"# {vendor}: {CLIENTS} clients for {SECONDS:.0f}s")
        figures: dict[str, Any] = {}
        force, key = police_force()
        with running_server(key) as server:
            figures.update(measure_api(server))
            # Then a researcher screens 60 of them with the keyboard, against the same server.
            email, password = researcher(force)
            if waiting() < _triage.SCREENED:
                _triage.seed_notifications(_triage.SCREENED, force)
            figures.update(_triage.triage_figures(server.url, email, password))
        for name, value in figures.items():
            print(f"{name}={value}")


if __name__ == "__main__":
    main()
