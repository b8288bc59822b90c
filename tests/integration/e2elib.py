"""Helpers shared by the end-to-end tests: a real revive-server on loopback and its API."""
import json
import re
import subprocess
import threading
import urllib.request


def start_server(server_bin, state, port=0, extra=(), startup_lines=None):
    """Starts revive-server on 127.0.0.1 (port 0: any free port); returns (process, port).
    Lines logged before "listening" are appended to `startup_lines` when given."""
    p = subprocess.Popen([server_bin, "--state", state, "--listen", f"127.0.0.1:{port}", *extra],
                         stderr=subprocess.PIPE, text=True)
    while True:
        line = p.stderr.readline()
        if not line:
            raise RuntimeError("revive-server exited during startup")
        m = re.search(r"listening on .* port (\d+)", line)
        if m:
            break
        if startup_lines is not None:
            startup_lines.append(line.rstrip())
    port = int(m.group(1))
    threading.Thread(target=p.stderr.read, daemon=True).start()
    return p, port


def api(port, method, path, token, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def operator_token(server_bin, state):
    """Creates operator alice in a fresh state directory and returns an API token for her."""
    subprocess.run([server_bin, "--state", state, "operator", "add", "alice"], input="long enough pw\n",
                   text=True, check=True, capture_output=True)
    return subprocess.run([server_bin, "--state", state, "operator", "token", "alice"], check=True,
                          capture_output=True, text=True).stdout.strip()
