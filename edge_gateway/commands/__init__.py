"""The gateway's ``sebiao`` subcommands, one module each (``add_arguments``, ``run``);
``sebiao/cli.py`` names them. A command may import any module of ``edge_gateway``.
``gateway_api`` is not a command: it is the running gateway's HTTP API as the commands call it.
"""
