#!/usr/bin/env python3
"""A stranger's server on the workshop LAN, for rogue_server_test.py: it speaks the agent
protocol just well enough to enrol a laptop and hand it a wipe job, then records what the agent
posts back (one JSON line per result on stdout).

usage: rogue_server_double.py LISTEN_ADDR PORT MODE KEYFILE
  MODE  signed   jobs signed (correctly) with this double's own ed25519 key
        unsigned jobs without a signature block
        plain    a bare step, as servers sent before jobs were signed
KEYFILE  where this double writes its public key (revive-ed25519 <base64>), so a test can
         also pin it: then the agent must take the job (the test's control case).
"""
import base64
import hashlib
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ADDR, PORT, MODE, KEYFILE = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
KEY = Ed25519PrivateKey.generate()
PUB = KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
DEVICE = 1
STEP = 7
state = {"results": 0}


def canonical(value):
    # What nlohmann::json::dump() gives for ASCII content: sorted keys, no whitespace.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def signed_job(body):
    text = canonical(body)
    sig = KEY.sign(b"revive-signed-document/2\njob\n" + text.encode())
    block = {"alg": "ed25519", "covers": "kind,body", "key_id": hashlib.sha256(PUB).hexdigest()[:16],
             "public_key": base64.b64encode(PUB).decode(), "sig": base64.b64encode(sig).decode()}
    return {"job": body, "signature": block}


def wipe_answer(nonce):
    now = int(time.time())
    body = {"attempt": 1, "device": DEVICE, "expires_at": now + 300, "issued_at": now, "kind": "wipe",
            "nonce": nonce, "params": {"pattern": "zeros"}, "resumed": False, "step": STEP}
    if MODE == "plain":
        return {"state": "step", "step": {"id": STEP, "kind": "wipe", "attempt": 1, "params": body["params"],
                                          "resumed": False}}
    if MODE == "unsigned":
        return {"state": "step", "job": {"job": body}}
    return {"state": "step", "job": signed_job(body)}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, value, status=200):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")) or 0)
        request = json.loads(body) if body else {}
        path = self.path.split("?")[0]
        if path == "/api/v1/agents/enrol":
            return self.answer({"device_id": DEVICE, "agent_token": "rogue", "new_device": True, "protocol": 1})
        if path == f"/api/v1/agents/{DEVICE}/next":
            # After the wipe was reported done (the control case) the workflow ends.
            if state["results"] and MODE == "signed" and state.get("ok"):
                return self.answer({"state": "done"})
            return self.answer(wipe_answer(request.get("nonce", "")))
        if path.startswith(f"/api/v1/agents/{DEVICE}/steps/") and path.endswith("/result"):
            state["results"] += 1
            state["ok"] = request.get("status") == "ok"
            print(json.dumps({"path": path, "result": request}), flush=True)
            return self.answer({"recorded": True})
        if path.startswith(f"/api/v1/agents/{DEVICE}/"):
            return self.answer({})
        return self.answer({"error": "no route"}, 404)


with open(KEYFILE, "w") as f:
    f.write("revive-ed25519 " + base64.b64encode(PUB).decode() + "\n")
server = ThreadingHTTPServer((ADDR, PORT), Handler)
print(json.dumps({"listening": PORT}), flush=True)
server.serve_forever()
