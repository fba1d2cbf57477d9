"""dashboards: Grafana as code. The generator (``generator/``) writes ``json/`` and
``provisioning/`` beside it and pushes them to a Grafana server.

It may import ``sebiao_common`` (the seed's colours and the alarm words) and the
Grafana libraries; never ``edge_gateway`` or ``cloud_ingest``.
"""
