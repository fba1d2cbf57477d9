"""Firmware updates over Wi-Fi, the gateway's side (contract: ``docs/fleet.md``; API: ``docs/http-api.md``).

Modules: ``release`` (a release made from the firmware tree, signed with the release key, read back and verified;
the key pair), ``waves`` (the update job in waves, pure and table-tested: who starts next, who is done, failed or
too slow, stop at the first failure), ``settings`` (the ``fleet:`` section of workshop.yaml), ``jobs`` (the jobs
in the store's ``fleet_jobs`` table), ``service`` (the job in the running gateway: an engine projection that
follows the stations' statuses, starts stations through the pipeline, holds the download tokens) and ``http``
(``/api/fleet/...`` and the stations' ``/fw/{token}/...`` downloads).

Imported only when the config has a ``fleet:`` section (``gateway.py``), and by ``sebiao firmware release`` and
``sebiao fleet``. It may import ``core``, ``store``, ``model``, ``errors`` and ``sebiao_common``.
"""
