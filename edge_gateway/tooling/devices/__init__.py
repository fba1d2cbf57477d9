"""Device tooling for the person installing a workshop: build, flash, deploy and
provision the reader stations, and write smart labels (``sebiao firmware``,
``sebiao label``). See docs/device-tooling.md."""
