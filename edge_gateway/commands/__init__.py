"""The gateway's ``sebiao`` subcommands, one module each (``add_arguments``, ``run``);
``sebiao/cli.py`` names them. A command may import any module of ``edge_gateway``.
"""
