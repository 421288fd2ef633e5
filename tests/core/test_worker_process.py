"""`mash worker` and `mash serve` as real processes, on a scratch SQLite database.

Each test copies a migrated database into its own MASH_VAR_DIR, seeds it
through the services in a separate process (an overdue enquiry and one whose
reminder is due), starts the commands as the operator would, and reads the
results straight from the database file. Emails go to files (EMAIL_URL
filemail://), so "exactly once" can be counted. Every process is stopped in a
finally block.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import mash

ROOT = Path(mash.__file__).resolve().parents[2]
PYTHON = sys.executable
STOP_SECONDS = 10  # a stopped worker or server must be gone well within this

# Through the services, as the hub would: enquiry 1 rated red 5 hours ago (its four
# requests are an hour overdue); enquiry 2 rated 3.5 hours ago (reminder due, deadline
# not yet). Police has a shared inbox and a lead.
SEED = """
import datetime as dt, json
import django
django.setup()
from django.conf import settings
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
from mash.accounts import services as account_services
from mash.accounts.models import User
from mash.core import clock
from mash.enquiries.models import AgencyRequest
from tests import factories
from tests.enquiries import journey

hub = journey.small_hub()
account_services.update_agency(actor=None, agency=hub.police, shared_inbox="police@example.org")
lead = factories.practitioner(agency_=hub.police)
User.objects.filter(pk=lead.pk).update(is_agency_lead=True)
now = clock.now()
with clock.at(now - dt.timedelta(hours=5)):
    overdue = journey.rated_enquiry(hub, rag="red")
with clock.at(now - dt.timedelta(hours=3, minutes=30)):
    reminded = journey.rated_enquiry(hub, rag="red")
print(json.dumps({"overdue": overdue.pk, "reminded": reminded.pk}))
"""
# Overdue: 4 requests -> the manager each time, the police lead once. Reminder:
# 4 requests -> police's two practitioners, one practitioner in each other agency.
EXPECTED_NOTIFICATIONS = {"overdue": 5, "reminder": 5}
EXPECTED_ALERTS = 8


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated scratch database, copied for each test."""
    var = tmp_path_factory.mktemp("mash-var")
    run([PYTHON, "-m", "mash.cli", "migrate", "--noinput"], environment(var), timeout=120)
    return var


@pytest.fixture
def var_dir(migrated: Path, tmp_path: Path) -> Path:
    var = tmp_path / "var"
    shutil.copytree(migrated, var)
    return var


def environment(var: Path, **extra: str) -> dict[str, str]:
    """The operator's environment: no DATABASE_URL (SQLite in var), emails to files."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "EMAIL_URL", "SECRET_KEY"} and not k.startswith("MASH_")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="mash.settings",
        MASH_VAR_DIR=str(var),
        MASH_SWEEP_SECONDS="1",
        EMAIL_URL=f"filemail:///{var / 'mail'}",  # filemail:/// then the absolute path
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def run(argv: list[str], env: dict[str, str], timeout: float = 60) -> str:
    done = subprocess.run(  # noqa: S603  (our own interpreter and arguments)
        argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def seed(var: Path) -> dict[str, int]:
    out = run([PYTHON, "-c", SEED], environment(var))
    return dict(json.loads(out.strip().splitlines()[-1]))


@contextlib.contextmanager
def started(argv: list[str], var: Path, log: str) -> Iterator[subprocess.Popen[bytes]]:
    """A long-running process, always stopped at the end (killed if it will not stop)."""
    with (var / log).open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            argv, env=environment(var), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=STOP_SECONDS)


def worker(var: Path, log: str = "worker.log") -> contextlib.AbstractContextManager[Any]:
    return started([PYTHON, "-m", "mash.cli", "worker"], var, log)


def stop(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    """SIGTERM, as a service manager sends it; the exit code and how long it took."""
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=STOP_SECONDS)
    return code, time.monotonic() - began


def query(var: Path, sql: str) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(var / "mash.sqlite3", timeout=20)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def notifications(var: Path) -> dict[str, int]:
    rows = query(var, "SELECT kind, COUNT(*) FROM core_notification GROUP BY kind")
    return {str(kind): int(n) for kind, n in rows}


def duplicates(var: Path) -> list[tuple[Any, ...]]:
    return query(
        var,
        "SELECT user_id, message, COUNT(*) FROM core_notification "
        "GROUP BY user_id, message HAVING COUNT(*) > 1",
    )


def emails(var: Path) -> list[str]:
    """The subject of every email sent (the file backend writes one file per connection)."""
    folder = var / "mail"
    if not folder.exists():
        return []
    return [
        line.removeprefix("Subject: ")
        for path in sorted(folder.iterdir())
        for line in path.read_text().splitlines()
        if line.startswith("Subject: ")
    ]


def wait_for(check: Callable[[], bool], what: str, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def everything_raised(var: Path) -> bool:
    return notifications(var) == EXPECTED_NOTIFICATIONS and len(emails(var)) >= 1


def assert_each_once(var: Path, ids: dict[str, int]) -> None:
    assert notifications(var) == EXPECTED_NOTIFICATIONS
    assert duplicates(var) == []
    alerts = query(
        var,
        "SELECT r.enquiry_id, a.kind, COUNT(*) FROM enquiries_requestalert a "
        "JOIN enquiries_agencyrequest r ON r.id = a.request_id GROUP BY r.enquiry_id, a.kind",
    )
    assert sorted(alerts) == [(ids["overdue"], "overdue", 4), (ids["reminded"], "reminder", 4)]
    sent = emails(var)
    assert len(sent) == 1, sent
    assert sent[0].startswith(f"Reminder: MASH enquiry E-{ids['reminded']:06d} needs your answer")


def test_the_worker_raises_due_alerts_once_and_stops_cleanly_on_sigterm(var_dir):
    ids = seed(var_dir)
    assert notifications(var_dir) == {}
    with worker(var_dir) as process:
        wait_for(lambda: everything_raised(var_dir), "the worker's first sweep")
        time.sleep(3)  # three more sweeps, and the queue polled again: nothing new
        assert_each_once(var_dir, ids)
        code, took = stop(process)
    assert code == 0
    assert took < 5
    log = (var_dir / "worker.log").read_text()
    assert "Worker started" in log
    # A restarted worker (a fresh process) sends nothing that was already sent.
    out = run([PYTHON, "-m", "mash.cli", "worker", "--once"], environment(var_dir))
    assert out.strip() == "reminders=0 overdue=0"
    with worker(var_dir, "worker-2.log") as again:
        # Stopped only once it runs (under load, starting Django takes seconds; a SIGTERM
        # before then ends the process before it can stop cleanly).
        second_log = var_dir / "worker-2.log"
        wait_for(
            lambda: second_log.exists() and "Worker started" in second_log.read_text(),
            "the second worker to start",
        )
        time.sleep(2)  # a sweep or two
        assert stop(again)[0] == 0
    assert_each_once(var_dir, ids)


def test_two_workers_at_once_still_raise_and_send_everything_once(var_dir):
    ids = seed(var_dir)
    with worker(var_dir, "a.log") as first, worker(var_dir, "b.log") as second:
        wait_for(lambda: everything_raised(var_dir), "the workers' sweeps")
        time.sleep(3)
        assert_each_once(var_dir, ids)
        assert stop(first)[0] == 0
        assert stop(second)[0] == 0
    assert_each_once(var_dir, ids)


def test_worker_once_prints_what_it_raised(var_dir):
    seed(var_dir)
    out = run([PYTHON, "-m", "mash.cli", "worker", "--once"], environment(var_dir))
    assert out.strip() == "reminders=4 overdue=4"
    assert notifications(var_dir) == EXPECTED_NOTIFICATIONS
    assert len(emails(var_dir)) == 1  # the queued email was sent by the same run


# `mash serve`: gunicorn and the worker, supervised together.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> dict[int, str]:
    """Live child processes of pid, with their command lines (Linux /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, ppid = fields[0], int(fields[1])
        if ppid == pid and state != "Z":
            found[int(entry.name)] = cmdline
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def worker_pid(serve: subprocess.Popen[bytes]) -> int | None:
    pids = [pid for pid, cmd in children(serve.pid).items() if "mash.cli worker" in cmd]
    return pids[0] if len(pids) == 1 else None


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  (our own server)
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


@contextlib.contextmanager
def serving(var: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    argv = [PYTHON, "-m", "mash.cli", "serve", "--port", str(port), "--workers", "1"]
    argv += ["--threads", "2"]
    with started(argv, var, "serve.log") as serve:
        try:
            yield serve, f"http://127.0.0.1:{port}"
        finally:
            # Whatever happened, leave no gunicorn or worker behind.
            for pid in children(serve.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def test_serve_runs_the_site_and_a_worker_restarts_it_and_stops_both(var_dir):
    ids = seed(var_dir)
    with serving(var_dir) as (serve, url):
        wait_for(lambda: get(f"{url}/sign-in/") == 200, "the site to answer")
        wait_for(lambda: worker_pid(serve) is not None, "the worker to start")
        first = worker_pid(serve)
        assert first is not None
        web = [pid for pid, cmd in children(serve.pid).items() if "gunicorn" in cmd]
        assert len(web) == 1
        wait_for(lambda: everything_raised(var_dir), "the worker's sweep")
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: worker_pid(serve) not in (None, first), "the worker to be restarted")
        second = worker_pid(serve)
        assert second is not None
        time.sleep(2)
        assert get(f"{url}/sign-in/") == 200
        code, took = stop(serve)
        assert code == 0
        assert took < STOP_SECONDS
        assert not alive(web[0])
        assert not alive(second)
        assert children(serve.pid) == {}
    assert_each_once(var_dir, ids)
    assert "The worker stopped; starting it again." in (var_dir / "serve.log").read_text()


def test_serve_stops_promptly_when_told_to_while_restarting_the_worker(var_dir):
    with serving(var_dir) as (serve, url):
        wait_for(lambda: get(f"{url}/sign-in/") == 200, "the site to answer")
        wait_for(lambda: worker_pid(serve) is not None, "the worker to start")
        first = worker_pid(serve)
        assert first is not None
        os.kill(first, signal.SIGKILL)
        log = var_dir / "serve.log"
        wait_for(lambda: "starting it again" in log.read_text(), "serve to notice")
        code, took = stop(serve)  # during the pause before the restart
        assert code == 0
        assert took < 5
        assert children(serve.pid) == {}
