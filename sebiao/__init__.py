"""sebiao: the ``sebiao`` command, the one place that knows every part of the product.

``sebiao/cli.py`` names each subcommand's module (the gateway's, the cloud's,
the dashboards'); nothing imports this package, so the parts stay apart: the
gateway never names the cloud, the cloud never names the gateway. It may import
any package of the project.
"""
