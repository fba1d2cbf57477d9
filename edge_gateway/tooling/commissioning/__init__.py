"""The commissioning check (安装验收) after a workshop is mounted and deployed.

    check.py   what the check found, judged from the gateway's answers and the installer's: pure
    sheet.py   the sign-off sheet (A4 PDF, Chinese first) with signature lines

``sebiao commission`` (edge_gateway/commands/commission.py) asks the running gateway and the installer;
docs/device-tooling.md describes the step.
"""
