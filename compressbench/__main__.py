"""`python -m compressbench` is the same as the `compressbench` console script."""

from compressbench.cli import main

raise SystemExit(main())
