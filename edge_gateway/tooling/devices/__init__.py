"""Device tooling for the person installing a workshop: build, flash, deploy and
provision the reader stations, install every station of a workshop in one run
(``install``: boards found by their USB bridge in ``ports``, talked to in ``board``,
progress kept by ``install_record``), and write smart labels (``sebiao firmware``,
``sebiao label``). See docs/device-tooling.md."""
