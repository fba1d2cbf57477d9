"""sebiao reader station: MicroPython (ESP32) application, also runnable under CPython.

Every module here runs under MicroPython and CPython 3.11: no dataclasses, no
typing at runtime, only modules both have. Hardware comes in through a Board
object (see board.py), so the same code drives an ESP32 or a simulated reader.
"""

VERSION = "0.1.0"
