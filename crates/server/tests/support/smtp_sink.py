"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1:PORT, each message stored as
DIR/<uuid>.eml (written to a dot-file, then renamed, so readers never see half a message).

Usage: python3 smtp_sink.py PORT DIR
"""

import os
import sys
import threading
import uuid

from aiosmtpd.controller import Controller


class Store:
    def __init__(self, directory):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):
        name = uuid.uuid4().hex
        partial = os.path.join(self.directory, "." + name)
        with open(partial, "wb") as file:
            file.write(envelope.original_content or envelope.content)
        os.rename(partial, os.path.join(self.directory, name + ".eml"))
        return "250 Message accepted"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Store(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
