"""Reader drivers. Each takes the SPI bus and pins as arguments and offers:

    init() -> bool            configure; False if the chip does not answer right
    poll() -> (kind, uid)     one presence check (kind from presence.py)
    read4(page) -> bytes      NTAG READ: 16 bytes (4 pages) of the selected tag
    write_page(page, data)    NTAG WRITE: one 4-byte page
    health() -> dict          for the status heartbeat
    healthy                   False after repeated chip faults that resets did not cure
"""


class ReaderError(Exception):
    pass


def make_reader(cfg, spi, cs, rst, clock):
    kind = cfg["reader"]["type"]
    if kind == "pn532":
        from .pn532 import PN532
        return PN532(spi, cs, rst=rst, clock=clock)
    from .mfrc522 import MFRC522
    return MFRC522(spi, cs, rst=rst, clock=clock, gain=cfg["reader"]["gain"])
