"""Allow ``python -m capwatch``."""

from __future__ import annotations

from capwatch._launch import main

if __name__ == "__main__":
    main()
