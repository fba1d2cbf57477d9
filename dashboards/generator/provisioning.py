"""Grafana file provisioning: the InfluxDB datasource (InfluxQL mode) and the dashboard provider.

Grafana replaces ``${VAR}`` in provisioning files with the environment of its
own process, so one file serves every workshop and district server. The
templates are text (not dumped YAML) to keep the comments an installer reads.
"""

from __future__ import annotations

from dashboards.generator.panels import DATASOURCE_UID

DATASOURCE_YAML = f"""\
# sebiao: the InfluxDB datasource, InfluxQL mode (InfluxDB 1.x; 2.x through a DBRP
# mapping; 3.x). Grafana fills ${{VAR}} from its own environment:
#   INFLUX_URL        http://influxdb:8086
#   INFLUX_DB         sebiao (1.x database; on 2.x/3.x the database the DBRP maps to the bucket)
#   INFLUX_USER       a read-only user (1.x); on 2.x a v1 authorization (influx v1 auth create);
#                     on 3.x and InfluxDB Cloud any name
#   INFLUX_PASSWORD   its password; on 3.x and Cloud the API token
# The dashboards find this datasource by its uid, "{DATASOURCE_UID}": keep it.
apiVersion: 1
datasources:
  - name: sebiao InfluxDB
    uid: {DATASOURCE_UID}
    type: influxdb
    access: proxy
    url: ${{INFLUX_URL}}
    user: ${{INFLUX_USER}}
    jsonData:
      version: InfluxQL
      dbName: ${{INFLUX_DB}}
      httpMode: GET
      timeInterval: 10s
    secureJsonData:
      password: ${{INFLUX_PASSWORD}}
    editable: false
"""

DASHBOARDS_YAML = """\
# sebiao: load the dashboards' JSON from SEBIAO_DASHBOARDS_DIR (the json/ folder
# that `sebiao dashboards build --out DIR` writes), into the folder "色标 sebiao".
apiVersion: 1
providers:
  - name: sebiao
    orgId: 1
    folder: 色标 sebiao
    folderUid: sebiao
    type: file
    disableDeletion: false
    allowUiUpdates: false
    updateIntervalSeconds: 60
    options:
      path: ${SEBIAO_DASHBOARDS_DIR}
      foldersFromFilesStructure: false
"""


def files() -> dict[str, str]:
    """Relative path -> text."""
    return {"provisioning/datasources/sebiao.yaml": DATASOURCE_YAML,
            "provisioning/dashboards/sebiao.yaml": DASHBOARDS_YAML}
