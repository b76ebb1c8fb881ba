"""Allow ``python -m capwatch``."""

from __future__ import annotations

from capwatch.cli import main

if __name__ == "__main__":
    main()
