#!/usr/bin/python3
"""A peer for tsbeast's specs built on Python's `websockets` (Debian's python3-websockets).

    ws_peer.py server <ping_interval>        an echo server on 127.0.0.1 (port printed as
                                             "listening <port>"); pings every <ping_interval>
                                             seconds (0: never) and fails a connection whose pong
                                             is 1 s late. A text message
                                             "!close <code> <reason>" makes it close with that
                                             code and reason. Each connection ends with a JSON line
                                             {"event": "end", ...}. Exits when stdin ends.
    ws_peer.py client <port> <scenario> ...  a client of ws://127.0.0.1:<port>/; prints one JSON
                                             line per step, and {"event": "done"} at the end.

Client scenarios:
    echo                      text, binary, empty, fragmented and 16 MiB messages; close 1000
    ping                      a ping and its pong; keep-alive pings every 0.3 s while idle for 2.5 s
    idle <seconds>            no pings of its own; idle, then one echo (the server's pings are
                              answered by websockets itself); close 1000
    close <code> <reason>     closes with <code> and <reason>
    serverclose <code> <why>  asks the server to close with <code> and <why>
"""

import asyncio
import hashlib
import json
import sys
import time

import websockets


def say(**fields):
    print(json.dumps(fields), flush=True)


def describe(message):
    data = message.encode() if isinstance(message, str) else message
    return {
        "type": "text" if isinstance(message, str) else "binary",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def pattern(kind, n, seed):
    if kind == "binary":
        return bytes((i * 31 + seed) & 255 for i in range(n)) if n < 4096 else _big_binary(n, seed)
    return "".join(chr(97 + (i * 7 + seed) % 26) for i in range(n)) if n < 4096 else _big_text(n, seed)


def _big_binary(n, seed):
    # The pattern repeats every 256 bytes.
    block = bytes((i * 31 + seed) & 255 for i in range(256))
    return (block * (n // 256 + 1))[:n]


def _big_text(n, seed):
    # The pattern repeats every 26 bytes.
    block = "".join(chr(97 + (i * 7 + seed) % 26) for i in range(26))
    return (block * (n // 26 + 1))[:n]


# ---- server ---------------------------------------------------------------------------------


async def serve(ping_interval):
    async def handler(ws, path=None):
        try:
            async for message in ws:
                if isinstance(message, str) and message.startswith("!close "):
                    parts = message.split(" ", 2)
                    started = time.monotonic()
                    await ws.close(int(parts[1]), parts[2] if len(parts) > 2 else "")
                    say(event="end", port=ws.remote_address[1], initiator="server", code=ws.close_code,
                        reason=ws.close_reason, elapsed=time.monotonic() - started)
                    return
                await ws.send(message)
        except websockets.ConnectionClosed:
            pass
        say(event="end", port=ws.remote_address[1], initiator="client", code=ws.close_code,
            reason=ws.close_reason)

    async with websockets.serve(
        handler, "127.0.0.1", 0,
        ping_interval=ping_interval or None, ping_timeout=3.0 if ping_interval else None,
        max_size=None, close_timeout=5,
    ) as server:
        print("listening %d" % server.sockets[0].getsockname()[1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


# ---- client ---------------------------------------------------------------------------------


async def client(port, scenario, args):
    uri = "ws://127.0.0.1:%d/" % port
    ping_interval = 0.3 if scenario == "ping" else None
    ping_timeout = 3.0 if scenario == "ping" else None
    async with websockets.connect(uri, ping_interval=ping_interval, ping_timeout=ping_timeout,
                                  max_size=None, close_timeout=5) as ws:
        say(event="open")
        if scenario == "echo":
            for message in ["hello, tsbeast", b"\x00\x01\xfe\xff", "", b"", "κόσμε 𝄞",
                            pattern("binary", 16 * 1024 * 1024, 5), pattern("text", 16 * 1024 * 1024, 9)]:
                await ws.send(message)
                say(event="message", **describe(await ws.recv()))
            await ws.send(["frag", "men", "ted"])  # one message in three frames
            say(event="message", **describe(await ws.recv()))
            await ws.send([b"\x01", b"\x02\x03"])
            say(event="message", **describe(await ws.recv()))
            await closing(ws, 1000, "done")
        elif scenario == "ping":
            started = time.monotonic()
            waiter = await ws.ping(b"from python")
            await asyncio.wait_for(waiter, 5)
            say(event="pong", elapsed=time.monotonic() - started)
            # websockets pings every 0.3 s and fails the connection (1011) without a pong in 3 s.
            await asyncio.sleep(2.5)
            await ws.send("still here")
            say(event="message", **describe(await ws.recv()))
            await closing(ws, 1000, "")
        elif scenario == "idle":
            await asyncio.sleep(float(args[0]))
            await ws.send("still here")
            say(event="message", **describe(await ws.recv()))
            await closing(ws, 1000, "")
        elif scenario == "close":
            await closing(ws, int(args[0]), " ".join(args[1:]))
        elif scenario == "serverclose":
            await ws.send("!close %s %s" % (args[0], " ".join(args[1:])))
            started = time.monotonic()
            try:
                await ws.recv()
                say(event="error", what="a message instead of the close")
            except websockets.ConnectionClosed as e:  # ...Error unless the codes are 1000 or 1001
                await ws.wait_closed()
                say(event="closed", code=e.rcvd.code, reason=e.rcvd.reason, sent=e.sent.code,
                    elapsed=time.monotonic() - started)
        else:
            raise SystemExit("unknown scenario " + scenario)
    say(event="done")


async def closing(ws, code, reason):
    started = time.monotonic()
    await ws.close(code, reason)
    # close() returns once the TCP connection is closed: the server tore it down.
    say(event="closed", code=ws.close_code, reason=ws.close_reason, elapsed=time.monotonic() - started)


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "server":
        asyncio.run(serve(float(sys.argv[2])))
    elif len(sys.argv) >= 4 and sys.argv[1] == "client":
        asyncio.run(client(int(sys.argv[2]), sys.argv[3], sys.argv[4:]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
