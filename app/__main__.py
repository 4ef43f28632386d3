"""`python -m app PHOTO_PATH_OR_URL [--json] [--out DIR]` or `--random`: see app/cli.py."""

import sys

from app.cli import main

sys.exit(main())
