"""The ``ciyuan`` command line: one entry point, one module per command group.

Adapters only: commands parse flags, build ``Settings`` once, call the domain packages and
print (a rich table for people, ``--json`` for programs). Errors become one line on stderr
with their stable code and exit status 2 (bad input) or 1 (anything else).
"""
