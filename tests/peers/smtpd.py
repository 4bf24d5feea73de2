"""A real SMTP server for the STARTTLS tests: aiosmtpd with require_starttls.

Usage: python smtpd.py CERT KEY
Prints "READY <port>" on stdout once it accepts connections, then serves until stdin closes.
"""
import socket
import ssl
import sys

from aiosmtpd.controller import Controller


class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def main():
    cert, key = sys.argv[1], sys.argv[2]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        Sink(),
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        ready_timeout=10,
    )
    controller.start()
    print(f"READY {port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
