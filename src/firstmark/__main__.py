from __future__ import annotations

from firstmark.cli import main

raise SystemExit(main())
