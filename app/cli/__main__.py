"""`python -m app.cli`: the `retriever-pages` command."""

from app.cli import main

raise SystemExit(main())
