import sys

from core.entrypoints.cli import main

sys.exit(main())
