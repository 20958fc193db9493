"""Run the fault server as its own process: `python -m tests.integration.bench.serve_fault PORT`."""

from __future__ import annotations

import sys

from aiohttp import web

from tests.integration.bench.faultserver import FaultServer


def main() -> None:
    port = int(sys.argv[1])
    modes = tuple(sys.argv[2].split(",")) if len(sys.argv) > 2 else ("final_usage",)
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    srv = FaultServer(modes=modes, chunk_delay_s=delay, port=port)
    web.run_app(srv.app(), host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
