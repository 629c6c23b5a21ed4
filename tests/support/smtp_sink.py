#!/usr/bin/env python3
"""An SMTP server for the end-to-end tests: accepts every mail and writes it, as received, to DIR/<n>.eml.

It is a real SMTP server (aiosmtpd), so the tests read exactly what the worker sent over the wire. --delay holds
each mail in DATA for that many seconds before accepting it, which lets a test kill the worker mid-delivery: a mail
whose client vanished before the server answered is not written, as with a real server.
"""
import argparse
import asyncio
import os
import signal
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory: str, delay: float):
        self.directory = directory
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        # Lets a test see that a delivery is under way (and kill the client in the middle of it).
        open(os.path.join(self.directory, f".receiving-{time.time_ns()}"), "w").close()
        if self.delay:
            await asyncio.sleep(self.delay)
        transport = getattr(server, "transport", None)
        if transport is None or transport.is_closing():
            return "421 client went away"
        name = f"{time.time_ns()}.eml"
        partial = os.path.join(self.directory, f".{name}.partial")
        with open(partial, "wb") as out:
            out.write(envelope.original_content or envelope.content)
        os.rename(partial, os.path.join(self.directory, name))
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    controller = Controller(Sink(args.dir, args.delay), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"smtp sink listening on 127.0.0.1:{args.port}, writing to {args.dir}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    main()
