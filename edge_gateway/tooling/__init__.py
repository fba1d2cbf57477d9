"""Tools for installing stations: where the firmware is (``firmware_files``), each
station's ``config.json`` (``station_config``), building, flashing, deploying and
provisioning boards (``devices/``), and tool labels and sink stickers
(``labels/``).

It may import ``model``, ``broker`` (station credentials), ``errors`` and
``sebiao_common``.
"""
