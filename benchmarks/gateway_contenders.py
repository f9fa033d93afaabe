"""The processes ``bench_gateway.py`` compares, all in front of one ``ciyuan sim-provider``:

- ``direct``: the sim-provider itself (the floor);
- ``nginx``: Debian's nginx, ``proxy_pass`` with keepalive to the sim, one worker, no access
  log, ``proxy_buffering off`` (so streams are relayed chunk by chunk, as the others do);
- ``litellm``: the LiteLLM proxy (its own venv, no database, master key, callbacks and
  telemetry off, the local model cost map so it never reaches out);
- ``ciyuan``: ``ciyuan serve`` with a tenant, a key and a monthly budget in a SQLite ledger:
  metering, reservations, settlement and signed receipts all on.

Each proxy is pinned to CPU ``PROXY_CPU``; the sim (and the load generator) to ``LOAD_CPU``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from gateway_load import Children, free_port, wait_http

__all__ = ["LOAD_CPU", "PROXY_CPU", "Contender", "start_ciyuan", "start_litellm",
           "start_nginx", "start_sim"]

#: The proxy under test gets a core to itself (as far as a shared 2-vCPU machine allows).
PROXY_CPU = 1
#: The sim-provider and the load generator share the other core.
LOAD_CPU = 0
#: Fixed answer length, so every call costs every contender the same bytes and chunks.
ANSWER_TOKENS = "48-48"
LITELLM_MASTER_KEY = "sk-bench-litellm"


@dataclass(frozen=True)
class Contender:
    """A URL to load, the headers it needs, and the pid whose process tree is the proxy
    (``None`` for the sim itself: there is no proxy to account)."""

    name: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    pid: int | None = None
    version: str = ""


def start_sim(children: Children, home: Path) -> Contender:
    """The sim-provider on a free port, zero time-to-first-token, unlimited tokens/s."""
    port = free_port()
    log = home / "sim.log"
    proc = children.start([sys.executable, "-m", "ciyuan", "sim-provider", "--port", str(port),
                           "--models", "gpt-4o", "--answer-tokens", ANSWER_TOKENS,
                           "--ttft-ms", "0", "--tokens-per-s", "0"], LOAD_CPU, log, cwd=home)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/v1/models", proc, log)
    return Contender("direct", url, version="ciyuan sim-provider")


_NGINX_CONF = """\
worker_processes 1;
pid {home}/nginx.pid;
error_log {home}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {home}/nginx-body;
    proxy_temp_path {home}/nginx-proxy;
    fastcgi_temp_path {home}/nginx-fastcgi;
    uwsgi_temp_path {home}/nginx-uwsgi;
    scgi_temp_path {home}/nginx-scgi;
    upstream sim {{ server 127.0.0.1:{sim_port}; keepalive 256; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://sim;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }}
    }}
}}
"""


def start_nginx(children: Children, home: Path, sim: Contender) -> Contender | None:
    """nginx with its own config in ``home``; ``None`` when nginx is not installed."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                       else None)
    if binary is None:
        return None
    port = free_port()
    conf = home / "nginx.conf"
    conf.write_text(_NGINX_CONF.format(home=home, port=port, sim_port=sim.url.rsplit(":", 1)[1]))
    log = home / "nginx.log"
    proc = children.start([binary, "-p", str(home), "-c", str(conf), "-g", "daemon off;"],
                          PROXY_CPU, log)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/v1/models", proc, log)
    version = subprocess.run([binary, "-v"], capture_output=True, text=True).stderr.strip()
    return Contender("nginx", url, pid=proc.pid, version=version)


_LITELLM_CONF = """\
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: {sim}/v1
      api_key: unused
litellm_settings:
  telemetry: false
  success_callback: []
  failure_callback: []
  callbacks: []
  set_verbose: false
general_settings:
  master_key: {key}
"""


def start_litellm(children: Children, home: Path, sim: Contender,
                  binary: Path) -> Contender | None:
    """The LiteLLM proxy (one uvicorn worker); ``None`` when ``binary`` is missing."""
    if not binary.exists():
        return None
    port = free_port()
    conf = home / "litellm.yaml"
    conf.write_text(_LITELLM_CONF.format(sim=sim.url, key=LITELLM_MASTER_KEY))
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False",
           "LITELLM_LOG": "ERROR", "NO_DOCS": "True", "DISABLE_ADMIN_UI": "True"}
    log = home / "litellm.log"
    proc = children.start([str(binary), "--config", str(conf), "--host", "127.0.0.1",
                           "--port", str(port), "--num_workers", "1"], PROXY_CPU, log,
                          env=env, cwd=home)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/health/liveliness", proc, log)
    python = binary.parent / "python"
    version = subprocess.run([str(python), "-c", "import importlib.metadata as m;"
                              "print(m.version('litellm'))"], capture_output=True,
                             text=True).stdout.strip()
    return Contender("litellm", url, {"authorization": f"Bearer {LITELLM_MASTER_KEY}"},
                     proc.pid, f"litellm {version}")


def _cli(db_url: str, *args: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-m", "ciyuan", "--db", db_url, *args, "--json"],
                         capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    assert isinstance(data, dict), out
    return data


#: The CLI under cProfile. uvicorn re-raises SIGTERM after its graceful shutdown, which would
#: kill the process before cProfile writes; a SIGTERM handler that exits cleanly lets it write.
_PROFILED = ("import cProfile, signal, sys\n"
             "signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))\n"
             "out, sys.argv = sys.argv[1], ['ciyuan', *sys.argv[2:]]\n"
             "from ciyuan.cli.main import cli\n"
             "cProfile.run('cli()', out)\n")


def start_ciyuan(children: Children, home: Path, sim: Contender,
                 profile: Path | None = None, db_url: str | None = None) -> Contender:
    """``ciyuan serve`` on a fresh database (a SQLite file in ``home`` unless ``db_url``
    names another, empty one) with a tenant, key and budget; under cProfile (written to
    ``profile`` at a clean stop) when asked."""
    db_url = db_url or f"sqlite:///{home}/ciyuan.db"
    _cli(db_url, "tenants", "create", "bench", "--sector", "software")
    key = str(_cli(db_url, "keys", "create", "--tenant", "bench")["key"])
    _cli(db_url, "budgets", "set", "--tenant", "bench", "--period", "month",
         "--amount", "1000000", "--currency", "USD")
    port = free_port()
    python = [sys.executable, *(("-c", _PROFILED, str(profile)) if profile else ("-m", "ciyuan"))]
    log = home / "ciyuan.log"
    proc = children.start([*python, "--db", db_url, "serve", "--port", str(port),
                           "--upstream", f"sim={sim.url}"], PROXY_CPU, log, cwd=home)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/healthz", proc, log)
    from importlib.metadata import version

    store = "SQLite" if db_url.startswith("sqlite") else "PostgreSQL"
    return Contender("ciyuan", url, {"authorization": f"Bearer {key}"}, proc.pid,
                     f"ciyuan {version('ciyuan')} ({store} ledger, receipts on)")
