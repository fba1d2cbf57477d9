"""Simulated hardware for the reader station: ISO 14443-A cards, an MFRC522 at
register level, a PN532 at frame level, and a host Board. Runs under CPython
and MicroPython; `sebiao station` and the firmware tests use it."""
