"""``python -m isograph.cli``: the ``isograph`` command."""

import sys

from isograph.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
