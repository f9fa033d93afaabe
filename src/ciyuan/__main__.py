"""``python -m ciyuan`` is the ``ciyuan`` command."""

from ciyuan.cli.main import main

if __name__ == "__main__":
    main()
