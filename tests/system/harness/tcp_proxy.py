"""A TCP relay from ``--listen`` to ``--target`` on 127.0.0.1, run as its own process.

The services reach moto through it, so stopping this process makes "AWS" unreachable
(connections refused, open ones dropped) while moto keeps its state; starting it again
on the same port brings AWS back.

Usage: ``python tcp_proxy.py --listen PORT --target PORT``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

LOOPBACK = "127.0.0.1"
CHUNK = 64 * 1024


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            writer.close()


async def _serve(listen: int, target: int) -> None:
    async def relay(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            upstream_r, upstream_w = await asyncio.open_connection(LOOPBACK, target)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(_pipe(client_r, upstream_w), _pipe(upstream_r, client_w))

    server = await asyncio.start_server(relay, LOOPBACK, listen, reuse_address=True, backlog=256)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--target", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(_serve(args.listen, args.target))


if __name__ == "__main__":
    main()
