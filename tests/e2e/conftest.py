"""End-to-end fixtures: start the real `rampart` binary on a free port with a temporary data dir,
and hand tests real clients (boto3, the AWS CLI, plain urllib with an independent SigV4 signer)."""
import configparser
import datetime
import hashlib
import hmac
import os
import pathlib
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import boto3
import botocore.config
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
REGION = "us-east-1"


def rampart_bin():
    b = os.environ.get("RAMPART_BIN")
    if b:
        return b
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return str(pathlib.Path(target) / "debug" / "rampart")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One rampart process with its own data directory."""

    def __init__(self, workdir, *extra_args, dev=False):
        self.workdir = pathlib.Path(workdir)
        self.data_dir = self.workdir / "data"
        self.port = free_port()
        self.extra = list(extra_args) + (["--dev"] if dev else [])
        self.proc = None
        self.starts = 0

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.starts += 1
        self.stdout_path = self.workdir / f"stdout.{self.starts}.log"
        self.stderr_path = self.workdir / f"stderr.{self.starts}.log"
        cmd = [rampart_bin(), "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", str(self.data_dir), "--log-format", "json", "--log-level", "debug", *self.extra]
        self.proc = subprocess.Popen(cmd, stdout=open(self.stdout_path, "wb"), stderr=open(self.stderr_path, "wb"), stdin=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rampart exited with {self.proc.returncode}: {self.stderr_path.read_text()}")
            try:
                with urllib.request.urlopen(self.endpoint + "/_rampart/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.02)
        raise RuntimeError("rampart did not become healthy")

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=timeout)
        return self.proc.returncode if self.proc else None

    def stdout(self):
        return self.stdout_path.read_text()

    def all_logs(self):
        out = ""
        for p in sorted(self.workdir.glob("*.log")):
            out += p.read_text(errors="replace")
        return out

    def credentials(self, profile="rampart"):
        cp = configparser.ConfigParser()
        cp.read(self.data_dir / "credentials")
        return cp[profile]["aws_access_key_id"], cp[profile]["aws_secret_access_key"]

    def client(self, service, access_key=None, secret_key=None, session_token=None, **kw):
        ak, sk = self.credentials()
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=kw.pop("region_name", REGION),
            aws_access_key_id=access_key or ak,
            aws_secret_access_key=secret_key or sk,
            aws_session_token=session_token,
            config=botocore.config.Config(retries={"max_attempts": 1}),
            **kw,
        )

    def cli(self, *args, env_extra=None, check=True):
        """Runs the AWS CLI with the credentials and config files the server wrote."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "AWS_SHARED_CREDENTIALS_FILE": str(self.data_dir / "credentials"),
            "AWS_CONFIG_FILE": str(self.data_dir / "config"),
        })
        env.update(env_extra or {})
        p = subprocess.run(["aws", *args], capture_output=True, text=True, env=env, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed: {p.stderr}")
        return p

    def rampart(self, *args):
        """Runs a `rampart` subcommand against this server's data directory."""
        return subprocess.run([rampart_bin(), *args, "--data-dir", str(self.data_dir)], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("rampart")).start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def dev_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("rampart-dev"), "--account-id", "111122223333", dev=True).start()
    yield s
    s.stop()


@pytest.fixture
def fresh_server(tmp_path):
    """A server of the test's own, for restart and first-start tests."""
    servers = []

    def make(*args, dev=False):
        s = Server(tmp_path / f"s{len(servers)}", *args, dev=dev)
        s.workdir.mkdir(parents=True, exist_ok=True)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.stop()


# --- An independent SigV4 signer (not botocore's), for hand-made requests. ---

def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sign(method, url, headers, body, access_key, secret_key, service, region=REGION, when=None, session_token=None):
    """Returns headers with SigV4 Authorization added. `when` overrides the clock."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    u = urllib.parse.urlsplit(url)
    headers = dict(headers)
    headers["host"] = u.netloc
    headers["x-amz-date"] = amz_date
    if session_token:
        headers["x-amz-security-token"] = session_token
    payload_hash = hashlib.sha256(body).hexdigest()
    names = sorted(h.lower() for h in headers)
    lower = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    canonical_headers = "".join(f"{n}:{lower[n]}\n" for n in names)
    signed = ";".join(names)
    q = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
    cq = "&".join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}" for k, v in sorted(q))
    creq = "\n".join([method, u.path or "/", cq, canonical_headers, signed, payload_hash])
    scope = f"{date}/{region}/{service}/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = _hmac(("AWS4" + secret_key).encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    k = _hmac(k, "aws4_request")
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed}, Signature={sig}"
    return headers


def raw_request(method, url, headers=None, body=b""):
    """Sends a request with urllib; returns (status, headers, body) for any status."""
    req = urllib.request.Request(url, data=body if body or method == "POST" else None, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()
