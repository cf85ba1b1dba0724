"""Run a local Label Studio server: bound to 127.0.0.1, data where the user says, admin and token without prompts.

Label Studio lives in a virtualenv of its own (its pins fight Beam's), so it is driven as a process:
the executable comes from `$MMDIAL_LABEL_STUDIO` (default `<repo>/.venv-ls/bin/label-studio`).

Secrets never reach a command line or a log: the admin e-mail, password and legacy API token go to
the child through its environment (`LABEL_STUDIO_USERNAME`, `..._PASSWORD`, `..._USER_TOKEN`, read
by `label-studio start`), and are kept in 0600 files under `<data-dir>/mmdial/`. The legacy token is
enabled for the organisation at the first start (`LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN`), so the token
is known before the server exists and no interactive step is needed. A personal access token (JWT
refresh token) given through `$MMDIAL_LS_TOKEN` works too: the SDK refreshes it at /api/token/refresh.

Files under `<data-dir>/mmdial/`: `server.json` (pid, port, url), `token`, `admin.json`, `server.log`.
The same class starts the throwaway server of the test session; a migrated empty database can be
kept as a template (`template_db`) because migrating a fresh database is most of a first start.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from annotation import credentials

LOG = logging.getLogger("mmdial.annotation.server")
EXECUTABLE_ENV = "MMDIAL_LABEL_STUDIO"
ADMIN_EMAIL_ENV = "MMDIAL_LS_ADMIN_EMAIL"
ADMIN_PASSWORD_ENV = "MMDIAL_LS_ADMIN_PASSWORD"
HOST = "127.0.0.1"
STATE_DIR = "mmdial"
DB_NAME = "label_studio.sqlite3"
DEFAULT_ADMIN = "admin@mmdial.local"
_STARTED_RE = re.compile(r"Starting development server at http://[^:/]+:(\d+)/")
# Names Label Studio reads with and without the LABEL_STUDIO_/HEARTEX_ prefix (core.utils.params.get_env):
# a stray HOST (zsh sets it) or USERNAME in the caller's environment must not reach the server.
_BARE_NAMES = (
    "USERNAME",
    "PASSWORD",
    "USER_TOKEN",
    "HOST",
    "PORT",
    "DATABASE_NAME",
    "DEBUG",
    "LOG_LEVEL",
    "SECRET_KEY",
    "BASE_DATA_DIR",
    "LOCAL_FILES_SERVING_ENABLED",
    "LOCAL_FILES_DOCUMENT_ROOT",
    "SSRF_PROTECTION_ENABLED",
)
#: the local-files document root under the data dir: the image store of pushes (annotation.images), served to
#: logged-in users only, under a local-files storage attached to the project
FILES_FOLDER = "files"
#: the editor feature (contextual scrolling of Paragraphs synced to audio) that shows time ranges on every paragraph
PARAGRAPH_TIMES_FLAG = "fflag_feat_front_lsdv_e_278_contextual_scrolling_short"


def files_root(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir).resolve() / FILES_FOLDER


class ServerError(RuntimeError):
    """The server could not be started, reached or stopped."""


def default_data_dir() -> str:
    """Where `mmdial annotate server start` keeps its server without --data-dir: $XDG_DATA_HOME/mmdial/label-studio."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "mmdial", "label-studio")


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def default_executable() -> str:
    return os.environ.get(EXECUTABLE_ENV) or str(repo_root() / ".venv-ls" / "bin" / "label-studio")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _http_status(url: str, token: str | None = None, timeout: float = 2.0) -> int | None:
    req = urllib.request.Request(url, headers={"Authorization": f"Token {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - local URL we built
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not alive
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def sanitized_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without anything Label Studio would read as its own configuration."""
    env = dict(os.environ if base is None else base)
    for key in list(env):
        if key.startswith(("LABEL_STUDIO_", "HEARTEX_")) or key in _BARE_NAMES:
            del env[key]
    env.update(
        {
            "LABEL_STUDIO_LATEST_VERSION_CHECK": "false",  # no call to pypi.org: nothing goes out
            "LABEL_STUDIO_COLLECT_ANALYTICS": "false",
            "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
            "SENTRY_DSN": "",
            "FRONTEND_SENTRY_DSN": "",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def public_env(public_url: str) -> dict[str, str]:
    """Label Studio settings for a server reached by a remote crowd through a TLS reverse proxy at `public_url`
    (it still binds 127.0.0.1: only the proxy talks to it)."""
    from urllib.parse import urlparse

    u = urlparse(public_url)
    if u.scheme != "https" or not u.hostname:
        raise ServerError(f"--public-url must be an https:// URL (the TLS reverse proxy), got {public_url!r}")
    origin = f"https://{u.netloc}"
    return {
        "LABEL_STUDIO_HOST": origin + u.path.rstrip("/"),  # links and redirects the crowd follows
        "LABEL_STUDIO_ALLOWED_HOSTS": f"{u.hostname},127.0.0.1,localhost",
        "LABEL_STUDIO_CSRF_TRUSTED_ORIGINS": origin,
        "LABEL_STUDIO_SESSION_COOKIE_SECURE": "1",  # session and CSRF cookies only over TLS
        "LABEL_STUDIO_CSRF_COOKIE_SECURE": "1",
        "LABEL_STUDIO_DEBUG": "false",
    }


@dataclass
class ServerConfig:
    data_dir: str
    port: int = 0  # 0: a free port is chosen
    public_url: str | None = None  # https URL of a TLS reverse proxy in front of it (remote crowd)
    executable: str = field(default_factory=default_executable)
    startup_timeout: float = 240.0
    template_db: str | None = None  # a migrated empty database copied in before the first start
    #: an S3-compatible store on this machine or a private network (MinIO, moto): Label Studio's SSRF protection
    #: refuses storage endpoints on reserved addresses, so it is turned off. Members (everyone, in Community
    #: Edition) can then make the server fetch private addresses (storages, webhooks): keep it to trusted crowds.
    private_object_store: bool = False


class LabelStudioServer:
    """One Label Studio server and its data directory. start() is idempotent, stop() is safe to repeat."""

    def __init__(self, config: ServerConfig):
        self.config = config
        self.data_dir = Path(config.data_dir).resolve()
        self.state_dir = self.data_dir / STATE_DIR
        self._proc: subprocess.Popen | None = None

    # -- files ------------------------------------------------------------------------------
    @property
    def token_file(self) -> Path:
        return self.state_dir / "token"

    @property
    def admin_file(self) -> Path:
        return self.state_dir / "admin.json"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "server.json"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "server.log"

    @property
    def projects_file(self) -> Path:
        """mmdial's own project records (annotation.state): settings annotators cannot edit."""
        return self.state_dir / "projects.json"

    def harden(self) -> None:
        """Owner-only permissions on everything under the data dir (the database holds the admin token)."""
        restrict_tree(self.data_dir)

    def _read_state(self) -> dict | None:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None

    def token(self) -> str:
        return credentials.read_secret(self.token_file)

    def admin(self) -> dict:
        return json.loads(credentials.read_secret(self.admin_file))

    @property
    def url(self) -> str:
        state = self._read_state()
        if not state:
            raise ServerError(f"no server state in {self.state_file}; start the server first")
        return state["url"]

    def _ensure_secrets(self) -> tuple[dict, str]:
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.state_dir, 0o700)
        if not self.admin_file.exists():
            admin = {
                "email": os.environ.get(ADMIN_EMAIL_ENV) or DEFAULT_ADMIN,
                "password": os.environ.get(ADMIN_PASSWORD_ENV) or credentials.new_password(),
            }
            credentials.write_secret(self.admin_file, json.dumps(admin))
        if not self.token_file.exists():
            env_token = os.environ.get(credentials.TOKEN_ENV, "").strip()
            # a legacy token can be preset; a JWT (personal access token) cannot, so a fresh one is made
            preset = env_token if env_token and "." not in env_token and 6 <= len(env_token) <= 40 else None
            credentials.write_secret(self.token_file, preset or credentials.new_token())
        return self.admin(), self.token()

    # -- lifecycle --------------------------------------------------------------------------
    def status(self) -> dict:
        state = self._read_state()
        if not state:
            return {"running": False, "data_dir": str(self.data_dir)}
        pid = state.get("pid")
        alive = bool(pid) and _pid_alive(pid) and str(self.data_dir) in _cmdline(pid)
        healthy = alive and _http_status(state["url"] + "/health") == 200
        return {
            "running": bool(healthy),
            "pid": pid if alive else None,
            "url": state["url"],
            "port": state["port"],
            "data_dir": str(self.data_dir),
            "log": str(self.log_file),
        }

    def start(self) -> dict:
        st = self.status()
        if st["running"]:
            return st
        if st.get("pid"):  # alive but not answering: still starting, or wedged
            if self._wait_ready(st["pid"], st["url"], int(st["port"])):
                return self.status()
            raise ServerError(
                f"a server process {st['pid']} exists for {self.data_dir} but does not answer; run `mmdial annotate server stop`"
            )
        exe = self.config.executable
        if not os.path.exists(exe):
            raise ServerError(f"Label Studio executable {exe} not found: run `make .venv-ls/.installed` or set ${EXECUTABLE_ENV}")
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        admin, token = self._ensure_secrets()
        db = self.data_dir / DB_NAME
        if not db.exists() and self.config.template_db and os.path.exists(self.config.template_db):
            shutil.copyfile(self.config.template_db, db)
        self.harden()  # what an older start (or a copy) left readable by others
        previous = self._read_state() or {}
        port = self.config.port or previous.get("port") or free_port()
        if _http_status(f"http://{HOST}:{port}/health", timeout=0.5) is not None:
            port = free_port()  # someone else answers there
        env = sanitized_env()
        from annotation.images import IMAGES_FOLDER

        for folder in (files_root(self.data_dir), files_root(self.data_dir) / IMAGES_FOLDER):  # owner-only, like the rest
            folder.mkdir(exist_ok=True, mode=0o700)
            os.chmod(folder, 0o700)
        env.update(
            {
                "LABEL_STUDIO_BASE_DATA_DIR": str(self.data_dir),
                # images by reference: tasks hold /data/local-files/?d=images/... URLs of this folder (logged-in users only)
                "LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED": "true",
                "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT": str(files_root(self.data_dir)),
                # Paragraphs without audio: this flag's layout prints a `00:00:00 - 00:00:00` time range on every EDU
                PARAGRAPH_TIMES_FLAG: "false",
                "LABEL_STUDIO_USERNAME": admin["email"],
                "LABEL_STUDIO_PASSWORD": admin["password"],
                "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            }
        )
        if "." not in token:
            env["LABEL_STUDIO_USER_TOKEN"] = token
        if self.config.public_url:
            env.update(public_env(self.config.public_url))
        if self.config.private_object_store:
            env["LABEL_STUDIO_SSRF_PROTECTION_ENABLED"] = "false"
        argv = [
            exe,
            "start",
            "--data-dir",
            str(self.data_dir),
            "--internal-host",
            HOST,
            "--port",
            str(port),
            "--no-browser",
            "--enable-legacy-api-token",
        ]
        offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        log = os.fdopen(os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")  # handed to the child
        try:
            self._proc = subprocess.Popen(
                argv,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=str(self.data_dir),
                umask=0o077,  # the database, media and exports it writes: owner only
            )
        finally:
            log.close()
        url = f"http://{HOST}:{port}"
        self._write_state(self._proc.pid, port, url)
        actual = self._wait_started(offset, port)
        if actual != port:
            port, url = actual, f"http://{HOST}:{actual}"
            self._write_state(self._proc.pid, port, url)
        if not self._wait_ready(self._proc.pid, url, port):
            self.stop()
            raise ServerError(f"Label Studio did not become ready within {self.config.startup_timeout:.0f}s; see {self.log_file}")
        if _http_status(url + "/api/current-user/whoami", token=token) != 200 and "." not in token:
            raise ServerError(f"the server at {url} refuses the token in {self.token_file} (a data directory set up by someone else?)")
        LOG.info("Label Studio running at %s (pid %s, data %s)", url, self._proc.pid, self.data_dir)
        return self.status()

    def _write_state(self, pid: int, port: int, url: str) -> None:
        body = json.dumps({"pid": pid, "port": port, "url": url, "data_dir": str(self.data_dir), "started_at": time.time()}, indent=2)
        credentials.write_secret(self.state_file, body)  # 0600 like everything under the data dir

    def _log_tail(self, offset: int) -> str:
        try:
            with open(self.log_file, "rb") as fh:
                fh.seek(offset)
                return fh.read().decode(errors="replace")
        except OSError:
            return ""

    def _wait_started(self, offset: int, port: int) -> int:
        """The port the server really listens on (label-studio moves to the next one if it is taken)."""
        deadline = time.monotonic() + self.config.startup_timeout
        while time.monotonic() < deadline:
            m = _STARTED_RE.search(self._log_tail(offset))
            if m:
                return int(m.group(1))
            if self._proc is not None and self._proc.poll() is not None:
                tail = "\n".join(self._log_tail(offset).splitlines()[-15:])
                raise ServerError(f"Label Studio exited with code {self._proc.returncode}:\n{credentials.redact(tail, self.token())}")
            time.sleep(0.2)
        return port

    def _wait_ready(self, pid: int, url: str, port: int) -> bool:
        deadline = time.monotonic() + self.config.startup_timeout
        while time.monotonic() < deadline:
            if _http_status(url + "/health") == 200:
                return True
            if not _pid_alive(pid):
                return False
            time.sleep(0.2)
        return False

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the server of this data directory; True if one was running."""
        state = self._read_state()
        pid = (state or {}).get("pid")
        if not pid or not _pid_alive(pid) or str(self.data_dir) not in _cmdline(pid):
            self._reap()
            return False
        try:
            os.killpg(pid, signal.SIGTERM)  # its own session: the group holds only the server
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _pid_alive(pid):
            self._reap()
            time.sleep(0.1)
        if _pid_alive(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._reap(wait=True)
        return True

    def _reap(self, wait: bool = False) -> None:
        if self._proc is not None:
            try:
                self._proc.wait(timeout=10 if wait else 0)
            except subprocess.TimeoutExpired:
                return
            self._proc = None


def restrict_tree(root: str | os.PathLike) -> None:
    """chmod 0700 every folder and 0600 every file under `root` (links are left alone)."""
    root = Path(root)
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o700)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.chmod(path, 0o600)


def migrate_template(cache_dir: str, executable: str | None = None, timeout: float = 600) -> str:
    """A migrated, user-less Label Studio database in `cache_dir` (made once; reused by later starts)."""
    exe = executable or default_executable()
    target = Path(cache_dir) / DB_NAME
    if target.exists():
        return str(target)
    work = Path(cache_dir) / f".work-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = sanitized_env()
    env["LABEL_STUDIO_BASE_DATA_DIR"] = str(work)
    # `version` applies the migrations and exits; no user is created (none is named)
    proc = subprocess.run(
        [exe, "version", "--data-dir", str(work)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=timeout,
        cwd=str(work),
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0 or not (work / DB_NAME).exists():
        raise ServerError(f"migrating a template database failed ({proc.returncode}):\n{proc.stdout.decode(errors='replace')[-2000:]}")
    os.replace(work / DB_NAME, target)
    shutil.rmtree(work, ignore_errors=True)
    return str(target)


def label_studio_fingerprint(executable: str | None = None) -> str:
    """Identifies an installed Label Studio (executable path and package version) for template caching."""
    exe = Path(executable or default_executable())
    venv = exe.resolve().parent.parent
    dist = sorted(p.name for p in venv.glob("lib/python*/site-packages/label_studio-*.dist-info"))
    digest = hashlib.sha256(str(venv).encode()).hexdigest()[:10]
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{dist[-1] if dist else 'unknown'}-{digest}")


def main_status_line(st: dict) -> str:
    if st.get("running"):
        return f"running at {st['url']} (pid {st['pid']}, data {st['data_dir']})"
    return f"not running (data {st['data_dir']})"


if __name__ == "__main__":  # pragma: no cover - manual use: python -m annotation.server DATA_DIR
    srv = LabelStudioServer(ServerConfig(sys.argv[1]))
    print(main_status_line(srv.start()))
