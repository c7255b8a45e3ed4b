"""A wrk Lua script replaying pre-signed calls: a cross-check of `ivr bench webhooks` with a C client.

    python -m app.bench.wrkscript --token T --public-url http://127.0.0.1:8000 --threads 4 \\
        --calls-per-thread 2000 > /tmp/calls.lua
    wrk -t4 -c4 -d20s -s /tmp/calls.lua http://127.0.0.1:8000

One connection per thread (-c equal to -t): a call's webhooks must arrive in order.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from app.bench.traffic import call_sid, signed_call
from app.telephony.security import SignatureChecker

_LUA_TAIL = """
local next_id = 0
function setup(thread) thread:set("id", next_id); next_id = next_id + 1 end
function init(args) i = 0 end
function request()
  local mine = reqs[id + 1]
  i = i % #mine + 1
  local r = mine[i]
  return wrk.format("POST", r[1], {["Content-Type"] = "application/x-www-form-urlencoded",
                                   ["X-Twilio-Signature"] = r[3]}, r[2])
end
"""


def _lua(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write(out: TextIO, token: str, public_url: str, threads: int, calls_per_thread: int) -> None:
    """The script: per thread, its own calls' webhooks in order (unique CallSids per run)."""
    signer, run = SignatureChecker(token, public_url), int(time.time()) & 0xFFFFFFFF
    out.write("reqs = {\n")
    for thread in range(threads):
        out.write("{\n")
        for n in range(calls_per_thread):
            for hook in signed_call(signer, call_sid(0x8000 + thread, run, n)):
                out.write(f"{{{_lua(hook.path)}, {_lua(hook.body.decode())}, {_lua(hook.signature)}}},\n")
        out.write("},\n")
    out.write("}\n" + _LUA_TAIL)


def main(argv: list[str] | None = None) -> None:
    """Command line: print the script."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token", required=True)
    parser.add_argument("--public-url", required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--calls-per-thread", type=int, default=2000)
    args = parser.parse_args(argv)
    write(sys.stdout, args.token, args.public_url.rstrip("/"), args.threads, args.calls_per_thread)


if __name__ == "__main__":
    main()
