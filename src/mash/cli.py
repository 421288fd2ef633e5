"""The `mash` command: Django's manage.py under our name."""

import os
import sys

# Django's command names cannot have hyphens; these are the names people type.
ALIASES = {"cin-census": "cin_census"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mash.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    if len(argv) > 1 and argv[1] in ALIASES:
        argv[1] = ALIASES[argv[1]]
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
