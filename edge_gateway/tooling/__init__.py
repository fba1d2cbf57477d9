"""Tools for installing stations: where the firmware is (``firmware_files``), each
station's ``config.json`` (``station_config``), building, flashing, deploying and
provisioning boards, a whole workshop's in one run (``devices/``), tool labels and sink stickers
(``labels/``), the staff poster (``poster.py``), the commissioning check and its sign-off sheet
(``commissioning/``), and the gateway host's systemd units
(``service_units``, written by ``service_install``) and offline installation bundle (``bundle``).

It may import ``model``, ``broker`` (station credentials), ``errors`` and
``sebiao_common``.
"""
