"""The host's serial line wired to the firmware's SerialConsole on a virtual station (no USB device): what
``sebiao label write`` and ``sebiao enroll --port`` talk to in the tests."""

from __future__ import annotations


class SerialLoop:
    """``write``/``readline`` as pyserial's, stepping the virtual station while a reply is awaited."""

    def __init__(self, vs) -> None:
        from sebiao_station.serial_cmd import SerialConsole

        self.vs = vs
        self.replies: list[bytes] = []
        self.console = SerialConsole(vs.station, lambda text: self.replies.append(text.encode()))

    def write(self, data: bytes) -> int:
        self.console.line(data.decode())
        return len(data)

    def readline(self) -> bytes:
        for _ in range(200):
            if self.replies:
                return self.replies.pop(0)
            self.vs.step()
            self.console.step()
            self.vs.board.clock.sleep_ms(10)
        return b""
